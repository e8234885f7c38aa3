"""What members write, per locale (zh-CN, en, kk in Cyrillic, fa in Persian script), with emoji.

Ordinary chatter never uses a word of scoring's complaint lexicon nor a keyword of the
community-interest campaign, so every complaint and every interest burst in the data is a planted
one (the unit tests hold both). Kazakh and Persian members name a product category the way the
chain's signage does, with the English word in brackets, which is what the campaign matches.
"""

from __future__ import annotations

LOCALES = ("zh-CN", "en", "kk", "fa")

CHATTER: dict[str, tuple[str, ...]] = {
    "zh-CN": (
        "早上好☀️ 今天有新鲜的蔬菜吗？", "周末有什么促销活动吗？", "刚买的面包很好吃😋", "请问今天几点关门？",
        "新到的咖啡豆不错☕", "今晚团购几点开始？🎉", "会员积分怎么兑换？", "谢谢店长推荐👍",
        "明天下雨，大家记得带伞☔",
        "小区门口的快递点搬了吗？", "有人一起拼单吗？", "这周的鸡蛋特价真划算🥚", "酸奶买一送一还有吗？",
        "周六的品鉴会我报名了😊", "店里的停车场今天好空", "新开的熟食柜台很方便", "今天排队的人不多，推荐现在去🛒",
    ),
    "en": (
        "Good morning! Any fresh bread today? 🥖", "What time does the store close on Sunday?",
        "The new coffee beans are great ☕", "Thanks for the tip, see you at the store 👋",
        "Is the oat milk back in stock? 🥛", "Loving the weekend deals 🎉", "How do I check my member points?",
        "Anyone going to the Saturday tasting?", "Parking was easy today 👍", "The new deli counter is so handy",
        "Short queues right now if you need to pop in 🛒",
    ),
    "kk": (
        "Қайырлы таң! Бүгін жаңа нан бар ма? 🥖", "Дүкен жексенбіде нешеде жабылады?", "Жаңа кофе өте дәмді ☕",
        "Рахмет, дүкенде кездескенше 👋", "Демалыс күнгі жеңілдіктер керемет 🎉", "Бонус ұпайларымды қалай тексеремін?",
        "Сүт қайта келді ме? 🥛", "Қазір кезек жоқ, баруға болады 🛒",
    ),
    "fa": (
        "صبح بخیر! امروز نان تازه دارید؟ 🥖", "فروشگاه جمعه‌ها چه ساعتی باز است؟", "قهوه جدید خیلی خوب است ☕",
        "ممنون، در فروشگاه می‌بینمتان 👋", "تخفیف‌های آخر هفته عالی است 🎉", "امتیاز باشگاه مشتریان را چطور ببینم؟",
        "شیر دوباره موجود شد؟ 🥛", "الان صف خلوت است 🛒",
    ),
}  # fmt: skip

REPLIES: dict[str, tuple[str, ...]] = {
    "zh-CN": ("好的👌", "同问", "我也想知道", "谢谢分享🌸", "+1", "哈哈😂", "在的在的", "已下单", "收到，谢谢群主🙏"),
    "en": ("Thanks! 🙏", "Same question here", "+1", "Good to know 👍", "See you there!", "Haha 😄"),
    "kk": ("Рахмет! 🙏", "Мен де білгім келеді", "Жақсы 👍", "Келісемін", "+1"),
    "fa": ("ممنون 🙏", "من هم همین سؤال را دارم", "عالی 👍", "موافقم", "+۱"),
}

TOPICS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("大家周末有什么好吃的推荐吗？🍲", "分享一个简单的早餐做法🍳", "小区亲子活动周六见👨‍👩‍👧",
              "晒一下今天的晚餐🥘", "大家年货都准备了什么？🧧"),
    "en": ("Weekend recipe swap: what are you cooking? 🍝", "Post your best breakfast ideas 🍳",
           "Which tea do you recommend for winter? 🍵"),
    "kk": ("Демалыста не пісіресіздер? 🍲", "Таңғы асқа идеялар бөлісейік 🍳", "Наурызға дайындық қалай? 🌷"),
    "fa": ("برای نوروز چه خریدهایی دارید؟ 🌷", "دستور پخت آخر هفته را به اشتراک بگذاریم 🍲"),
}  # fmt: skip

# Each one matches scoring's complaint lexicon (services/scoring/domain/complaints.py).
COMPLAINTS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("鸡蛋不新鲜，我要投诉！😡", "收银员态度差，再也不来了", "买的牛奶过期了，太差了",
              "上次的退款到现在还没到账，投诉无门"),
    "en": ("Terrible service at the till today, never again 😠", "The yoghurt I bought had expired, I want a refund",
           "Worst queue ever, I'm filing a complaint"),
    "kk": ("Сапасы нашар, шағым жазамын 😠", "Сатушының қызметі нашар, енді келмеймін",
           "Сүт бұзылған екен, шағым бар 😡"),
    "fa": ("کیفیت شیر افتضاح بود، شکایت دارم 😠", "برخورد صندوقدار افتضاح بود", "این کلاهبرداری است!"),
}  # fmt: skip

# Each one contains a keyword of the community_interest campaign for its category.
INTEREST: dict[str, dict[str, tuple[str, ...]]] = {
    "zh-CN": {
        "baby_formula": ("有人知道店里奶粉什么时候到货吗？", "想给宝宝换个奶粉，大家推荐哪个？🍼"),
        "diapers": ("纸尿裤这周有活动吗？", "尿不湿哪个牌子好用？"),
        "pet_food": ("猫粮快吃完了，店里有进口的吗？🐱", "狗粮有没有大包装的？🐶"),
        "wine": ("周末聚会想买几瓶红酒🍷", "有推荐的葡萄酒吗？"),
        "fresh_fruit": ("车厘子到了吗？🍒", "榴莲今天有货吗？", "草莓新鲜吗？🍓"),
    },
    "en": {
        "baby_formula": ("Does anyone know when the baby formula restock arrives? 🍼",
                         "Which infant formula do your little ones like?"),
        "diapers": ("Any diaper deals this week?", "Which nappies work best for toddlers?"),
        "pet_food": ("Is the grain-free cat food back? 🐱", "Looking for a big bag of dog food 🐶"),
        "wine": ("Any good wine for a dinner party? 🍷", "Is the champagne on offer this month? 🥂"),
        "fresh_fruit": ("Are the cherries in yet? 🍒", "Strawberries look amazing today 🍓"),
    },
    "kk": {
        "baby_formula": ("Балаға арналған қоспа (baby formula) қашан келеді? 🍼",),
        "diapers": ("Жөргек (diapers) жеңілдікпен бар ма?",),
        "pet_food": ("Мысыққа азық (cat food) бар ма? 🐱",),
        "wine": ("Мерекеге шарап (wine) ұсынасыздар ма? 🍷",),
        "fresh_fruit": ("Құлпынай (strawberries) келді ме? 🍓",),
    },
    "fa": {
        "baby_formula": ("شیر خشک نوزاد (baby formula) کی می‌رسد؟ 🍼",),
        "diapers": ("پوشک (diapers) تخفیف دارد؟",),
        "pet_food": ("غذای گربه (cat food) دارید؟ 🐱",),
        "fresh_fruit": ("گیلاس (cherries) رسیده؟ 🍒",),
    },
}  # fmt: skip
INTEREST_CATEGORIES = ("baby_formula", "diapers", "pet_food", "wine", "fresh_fruit")

# Followers writing to the official account.
OA_TEXTS: dict[str, tuple[str, ...]] = {
    "zh-CN": ("你好", "会员卡怎么办理？", "营业时间是几点？", "积分查询", "最近有什么活动？", "可以送货上门吗？🚚"),
    "en": ("Hi!", "How do I get a member card?", "Opening hours?", "Do you deliver? 🚚"),
    "kk": ("Сәлеметсіз бе!", "Мүшелік картаны қалай аламын?", "Жұмыс уақыты қандай?"),
    "fa": ("سلام", "کارت عضویت را چطور بگیرم؟", "ساعت کاری فروشگاه؟"),
}  # fmt: skip

# Store staff in the WeCom groups: ingest ignores their messages (staff ids are not external contacts).
STAFF_NOTICES = (
    "【通知】今晚八点团购开始，欢迎下单🎉",
    "【店长】本周日店内有试吃活动，欢迎大家来玩",
    "【提醒】明天上午十点到十一点暂停配送",
    "亲，已经帮您留货了😊",
    "【新品】本周新到一批进口零食",
)
STAFF_IDS = ("staff_li", "staff_wang", "zhang.manager")


def edited(text: str) -> str:
    """The corrected text of an edit."""
    return text.rstrip("!！?？. ") + ("！" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "!")
