"""A WeChat Official Account channel's settings, as pinned by the channel API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_API_BASE = "https://api.weixin.qq.com"
SECRET_FIELDS = frozenset({"app_secret", "token", "encoding_aes_key"})


class WeChatConfig(BaseModel):
    """What the Official Account's developer settings show (开发 → 基本配置).

    Without `encoding_aes_key` the account must use plaintext mode (明文模式); with it,
    compatible (兼容模式) and safe (安全模式) pushes are decrypted too.
    """

    model_config = ConfigDict(extra="forbid")

    app_id: str = Field(pattern=r"^wx[0-9a-f]{16}$", description="AppID (开发者ID).")
    app_secret: str = Field(
        min_length=16, max_length=128, description="AppSecret (开发者密码); write-only."
    )
    token: str = Field(
        pattern=r"^[A-Za-z0-9]{3,32}$",
        description="The server-configuration Token (令牌) that signs pushes; write-only.",
    )
    encoding_aes_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{43}$",
        description="EncodingAESKey (消息加解密密钥) for compatible/safe mode; write-only.",
    )
    api_base: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description=f"WeChat API origin; {DEFAULT_API_BASE} when unset (a proxy, or tests).",
    )

    @property
    def base_url(self) -> str:
        return (self.api_base or DEFAULT_API_BASE).rstrip("/")
