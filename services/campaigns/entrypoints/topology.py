"""What campaigns consumes and publishes: read by the consumers and by the AsyncAPI app alike."""

from services.campaigns.service_layer.clock import CLOCKED, FEEDBACK
from shared.contracts.topics import CAMPAIGNS_DLQ, OFFER_ISSUED

# State changes and purchases trigger offers; chats feed community interest; consent and
# delivery statuses keep campaigns' own copies current; merges fold one person's ids together.
CONSUMES = (*CLOCKED, *FEEDBACK)
PUBLISHES = (OFFER_ISSUED, CAMPAIGNS_DLQ)
