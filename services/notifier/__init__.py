"""notifier: delivers offers as messages over SMS, WeChat, email and webhooks, exactly once per channel."""
