"""The four MemberPulse services. They never import each other; they talk over Kafka."""
