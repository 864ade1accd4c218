"""The config file: windows and checks for removals, without Python (docs/config.md)."""

from rootkeys._config import (
    ENVIRONMENT_VARIABLE,
    AlarmCheckConfig,
    ChecksConfig,
    CommandCheckConfig,
    Config,
    HttpCheckConfig,
    LambdaConfig,
    OrganizationConfig,
    PolicyConfig,
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
    "OrganizationConfig",
    "PolicyConfig",
    "WindowConfig",
    "default_config_path",
    "load_config",
]
