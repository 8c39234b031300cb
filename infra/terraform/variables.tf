variable "subscription_id" {
  type        = string
  nullable    = false
  description = <<-EOT
    Azure subscription (GUID) to deploy into.
  EOT

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a GUID."
  }
}

variable "environment_name" {
  type        = string
  nullable    = false
  description = <<-EOT
    Short environment name (dev, prod, ...). Used in resource names, like azd's environmentName.
  EOT

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}$", var.environment_name))
    error_message = "environment_name must be 1-31 lowercase letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "location" {
  type        = string
  nullable    = false
  description = <<-EOT
    Azure region for every resource. Choose it for data residency: the encrypted token vault, audit
    log and change feed are stored here. The region must offer the Flex Consumption plan.
  EOT

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.location))
    error_message = "location must be a region name such as westeurope or swedencentral (lowercase, no spaces)."
  }
}

variable "operator_principal_id" {
  type        = string
  nullable    = false
  default     = ""
  description = <<-EOT
    Object id granted Key Vault Secrets Officer to put and rotate the secrets. Empty means the
    identity running Terraform.
  EOT

  validation {
    condition     = var.operator_principal_id == "" || can(regex("^[0-9a-fA-F-]{36}$", var.operator_principal_id))
    error_message = "operator_principal_id must be empty or an object id (GUID)."
  }
}

variable "microsoft_client_id" {
  type        = string
  nullable    = false
  description = <<-EOT
    Application (client) id of the Entra app registration (MICROSOFT_CLIENT_ID).
  EOT

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", var.microsoft_client_id))
    error_message = "microsoft_client_id must be the app registration's Application (client) ID, a GUID."
  }
}

variable "microsoft_tenant_id" {
  type        = string
  nullable    = false
  default     = ""
  description = <<-EOT
    MICROSOFT_TENANT_ID: common, organizations, consumers, a tenant id or a verified domain. Empty
    leaves the app default (common).
  EOT

  validation {
    condition     = var.microsoft_tenant_id == "" || can(regex("^(common|organizations|consumers|[0-9a-fA-F-]{36}|[A-Za-z0-9.-]+\\.[A-Za-z]{2,})$", var.microsoft_tenant_id))
    error_message = "microsoft_tenant_id must be empty, common, organizations, consumers, a tenant id (GUID) or a verified domain."
  }
}

variable "microsoft_cloud" {
  type        = string
  nullable    = false
  default     = ""
  description = <<-EOT
    MICROSOFT_CLOUD: the Microsoft cloud of the tenant: global, usgov (GCC High), usgov-dod or china.
    Empty leaves the app default (global).
  EOT

  validation {
    condition     = contains(["", "global", "usgov", "usgov-dod", "china"], var.microsoft_cloud)
    error_message = "microsoft_cloud must be empty, global, usgov, usgov-dod or china."
  }
}

variable "microsoft_features" {
  type        = string
  nullable    = false
  default     = ""
  description = <<-EOT
    MICROSOFT_FEATURES: comma-separated feature sets to request. Empty leaves the app default.
  EOT

  validation {
    condition = var.microsoft_features == "" || alltrue([
      for f in split(",", var.microsoft_features) :
      contains(["mail", "mail-shared", "calendar", "files", "teams", "teams-history", "contacts", "todo", "people", "sharepoint", "sharepoint-write", "meetings", "meetings-content", "rooms"], trimspace(f))
    ])
    error_message = "microsoft_features must list only mail, mail-shared, calendar, files, teams, teams-history, contacts, todo, people, sharepoint, sharepoint-write, meetings, meetings-content, rooms."
  }
}

variable "caller_token_issuer" {
  type        = string
  nullable    = false
  description = <<-EOT
    CALLER_TOKEN_ISSUER: the iss claim of the platform backend's caller tokens.
  EOT

  validation {
    condition     = length(trimspace(var.caller_token_issuer)) > 0
    error_message = "caller_token_issuer must not be empty."
  }
}

variable "caller_token_audience" {
  type        = string
  nullable    = false
  description = <<-EOT
    CALLER_TOKEN_AUDIENCE: the aud claim the platform backend puts in caller tokens.
  EOT

  validation {
    condition     = length(trimspace(var.caller_token_audience)) > 0
    error_message = "caller_token_audience must not be empty."
  }
}

variable "caller_jwks_url" {
  type        = string
  nullable    = false
  default     = ""
  description = <<-EOT
    CALLER_JWKS_URL: the platform's JWKS when it signs caller tokens asymmetrically. Empty when the
    shared caller-token-secret in Key Vault is used instead.
  EOT

  validation {
    condition     = var.caller_jwks_url == "" || startswith(var.caller_jwks_url, "https://")
    error_message = "caller_jwks_url must be empty or an https:// URL."
  }
}

variable "return_url_allowlist" {
  type        = string
  nullable    = false
  description = <<-EOT
    RETURN_URL_ALLOWLIST: comma-separated URL prefixes the OAuth flow may send the browser back to.
  EOT

  validation {
    condition     = alltrue([for u in split(",", var.return_url_allowlist) : can(regex("^https?://[^/]+", trimspace(u)))])
    error_message = "return_url_allowlist must be a comma-separated list of absolute http(s) URL prefixes."
  }
}

variable "public_base_url" {
  type        = string
  nullable    = false
  default     = ""
  description = <<-EOT
    PUBLIC_BASE_URL when a custom domain or Front Door sits before the app. Empty means
    https://<function app name>.azurewebsites.net.
  EOT

  validation {
    condition     = var.public_base_url == "" || can(regex("^https://[^/]+$", var.public_base_url))
    error_message = "public_base_url must be empty or an https:// origin without a trailing slash or path."
  }
}

variable "storage_shards" {
  type        = number
  nullable    = false
  default     = 1
  description = <<-EOT
    Storage accounts the users' rows are spread across by a hash of the user id (STORAGE_SHARDS,
    docs/scale.md): 1 keeps them all in the host account; 8 for a million users. To grow it once
    users are connected, apply the new count with the app stopped, run `npm run reshard`, start.
  EOT

  validation {
    condition     = var.storage_shards >= 1 && var.storage_shards <= 64 && floor(var.storage_shards) == var.storage_shards
    error_message = "storage_shards must be a whole number from 1 to 64."
  }
}

variable "maximum_instance_count" {
  type        = number
  nullable    = false
  default     = 100
  description = <<-EOT
    Flex Consumption scale-out limit.
  EOT

  validation {
    condition     = var.maximum_instance_count >= 1 && var.maximum_instance_count <= 1000
    error_message = "maximum_instance_count must be between 1 and 1000."
  }
}

variable "instance_memory_mb" {
  type        = number
  nullable    = false
  default     = 2048
  description = <<-EOT
    Flex Consumption instance memory (512, 2048 or 4096 MB).
  EOT

  validation {
    condition     = contains([512, 2048, 4096], var.instance_memory_mb)
    error_message = "instance_memory_mb must be 512, 2048 or 4096."
  }
}

variable "microsoft_client_secret" {
  type        = string
  nullable    = false
  sensitive   = true
  default     = ""
  description = <<-EOT
    Optional. When set, Terraform writes it to Key Vault as microsoft-client-secret (and so it is in
    the Terraform state: use an encrypted, access-controlled backend). Leave empty to put it in Key
    Vault yourself (docs/deployment.md). It is never an app setting.
  EOT

  validation {
    condition     = var.microsoft_client_secret == "" || length(var.microsoft_client_secret) >= 16
    error_message = "microsoft_client_secret looks truncated: copy the secret Value (not the Secret ID) from the app registration."
  }
}

variable "token_encryption_keys" {
  type        = string
  nullable    = false
  sensitive   = true
  default     = ""
  description = <<-EOT
    Optional TOKEN_ENCRYPTION_KEYS, written to Key Vault as token-encryption-keys when set:
    comma-separated keyId:base64(32 random bytes); the first entry encrypts, all decrypt.
  EOT

  validation {
    condition     = var.token_encryption_keys == "" || can(regex("^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=)*$", var.token_encryption_keys))
    error_message = "token_encryption_keys must be keyId:base64Key entries separated by commas, each key 32 bytes (44 base64 characters); see docs/deployment.md."
  }
}

variable "caller_token_secret" {
  type        = string
  nullable    = false
  sensitive   = true
  default     = ""
  description = <<-EOT
    Optional CALLER_TOKEN_SECRET (HS256, at least 32 characters), written to Key Vault as
    caller-token-secret when set. Not needed when caller_jwks_url is used.
  EOT

  validation {
    condition     = var.caller_token_secret == "" || length(var.caller_token_secret) >= 32
    error_message = "caller_token_secret must be at least 32 characters (256 bits) for HS256."
  }
}

variable "events_signing_secrets" {
  type        = string
  nullable    = false
  sensitive   = true
  default     = ""
  description = <<-EOT
    Optional EVENTS_SIGNING_SECRETS: one to three Standard Webhooks secrets (whsec_ + base64 of 24-64
    random bytes), comma-separated, written to Key Vault as events-signing-secrets when set. Needed
    once an event endpoint is registered (docs/events.md).
  EOT

  validation {
    condition     = var.events_signing_secrets == "" || can(regex("^whsec_[A-Za-z0-9+/]{32,88}={0,2}(,whsec_[A-Za-z0-9+/]{32,88}={0,2}){0,2}$", var.events_signing_secrets))
    error_message = "events_signing_secrets must be one to three whsec_<base64> secrets separated by commas; see docs/events.md."
  }
}

variable "tags" {
  type        = map(string)
  nullable    = false
  default     = {}
  description = <<-EOT
    Extra tags for every resource.
  EOT
}

variable "alert_email" {
  type        = string
  nullable    = false
  default     = ""
  description = <<-EOT
    E-mail address the operations alerts go to (docs/operations.md); empty for alerts shown in the
    portal only.
  EOT
}
