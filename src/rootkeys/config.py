"""The config file: windows, checks and notifications, without Python (docs/config.md)."""

from rootkeys._config import (
    ENVIRONMENT_VARIABLE,
    AlarmCheckConfig,
    ChecksConfig,
    CommandCheckConfig,
    Config,
    HttpCheckConfig,
    LambdaConfig,
    NotifyConfig,
    OrganizationConfig,
    PolicyConfig,
    SnsNotifyConfig,
    WebhookNotifyConfig,
    WindowConfig,
    default_config_path,
    load_config,
)

__all__ = [
    "ENVIRONMENT_VARIABLE",
    "AlarmCheckConfig",
    "ChecksConfig",
    "CommandCheckConfig",
    "Config",
    "HttpCheckConfig",
    "LambdaConfig",
    "NotifyConfig",
    "OrganizationConfig",
    "PolicyConfig",
    "SnsNotifyConfig",
    "WebhookNotifyConfig",
    "WindowConfig",
    "default_config_path",
    "load_config",
]
