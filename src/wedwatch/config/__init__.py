"""Configuration: the schema and its loader."""

from wedwatch.config.loader import LoadedConfig, load_config, parse_config
from wedwatch.config.model import OPERATIONS, Config, Phase

__all__ = ["Config", "LoadedConfig", "OPERATIONS", "Phase", "load_config", "parse_config"]
