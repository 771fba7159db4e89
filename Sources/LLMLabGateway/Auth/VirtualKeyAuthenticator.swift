import HTTPTypes
import Foundation
import LLMLabCore
import LLMLabSecurity
import LLMLabStore
import Logging

/// Turns the credential on a proxy request into a ``VirtualKey``, or into the OpenAI-style
/// error the official SDKs understand: 401 (`AuthenticationError`) when the key is missing,
/// malformed, unknown, revoked or expired; 403 (`PermissionDeniedError`) when it is valid
/// but may not use the proxy. Only the key's SHA-256 is looked up; the key is never logged.
///
/// Lookups are cached by the key's hash (``ConfigurationCache``): a known key for
/// ``acceptedTTL``, an unknown one for ``refusedTTL``; revoking a key, suspending a tenant
/// or changing limits through this server applies to the next request.
struct VirtualKeyAuthenticator: Sendable {
    let database: Database
    let logger: Logger
    let cache: ConfigurationCache<String, Lookup>

    static let acceptedTTL: Duration = .seconds(10)
    static let refusedTTL: Duration = .seconds(2)

    init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
        self.cache = ConfigurationCache(changes: database.changes)
    }

    /// What the database said about a key hash.
    enum Lookup: Sendable {
        case found(ApiKeyRecord, TenantRecord)
        case unknown
    }

    /// The bearer secret from `Authorization: Bearer …` or `x-api-key: …`.
    static func credential(authorization: String?, apiKey: String?) -> String? {
        if let authorization {
            let trimmed = trimmed(Substring(authorization))
            if trimmed.utf8.count > 7, trimmed.prefix(7).lowercased() == "bearer " {
                let token = Self.trimmed(trimmed.dropFirst(7))
                if !token.isEmpty { return String(token) }
            }
        }
        if let apiKey {
            let token = trimmed(Substring(apiKey))
            if !token.isEmpty { return String(token) }
        }
        return nil
    }

    /// `text` without leading and trailing spaces and tabs (cheaper than Foundation's
    /// `trimmingCharacters`, on every request).
    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }

    /// The key behind `credential`, which must carry `scope` (`proxy` for the LLM endpoints,
    /// `ingest` for OTLP traces) and belong to a project.
    func authenticate(_ credential: String?, scope: String = ApiKeyScope.proxy) async throws -> VirtualKey {
        guard let credential else {
            throw GatewayError(.unauthorized, .authentication,
                               "no API key: send an LLMLab API key as 'Authorization: Bearer llk_…' or 'x-api-key: llk_…' (create one with 'llmlab-admin apikey create <name> --role member --project <id> --scopes \(scope)')",
                               code: "missing_api_key")
        }
        guard SecretToken.kind(of: credential) == .apiKey else {
            throw GatewayError(.unauthorized, .authentication,
                               "the API key is not an LLMLab API key: the proxy takes project keys that start with llk_, not provider keys, sessions or the operator token",
                               code: "invalid_api_key")
        }
        let hash = SecretToken.sha256Hex(credential)
        let lookup = try await lookUp(hash: hash)
        guard case .found(let key, let tenant) = lookup, key.expiresAt.map({ $0 > Date() }) ?? true else {
            throw GatewayError(.unauthorized, .authentication,
                               "the API key is unknown, revoked or expired; create a new one with 'llmlab-admin apikey create'",
                               code: "invalid_api_key")
        }
        guard tenant.status == .active else {
            throw GatewayError(.forbidden, .permission,
                               "tenant \(tenant.slug) is suspended; its data is kept, and the platform operator can resume it",
                               code: "tenant_suspended")
        }
        guard key.scopes.contains(scope) else {
            throw GatewayError(.forbidden, .permission,
                               "API key \(key.prefix)… does not have the \(scope) scope (it has: \(key.scopes.sorted().joined(separator: ", "))); create a key with '--scopes \(scope)'",
                               code: "missing_scope")
        }
        guard let projectID = key.projectID else {
            let why = scope == ApiKeyScope.proxy ? "every proxy call is billed to one" : "every trace belongs to one"
            throw GatewayError(.forbidden, .permission,
                               "API key \(key.prefix)… is not scoped to a project, and \(why); create a project-scoped key with 'llmlab-admin apikey create <name> --role member --project <project-id> --scopes \(scope)'",
                               code: "project_required")
        }
        return VirtualKey(
            keyID: key.id, keyName: key.name, tenantID: tenant.id, tenantSlug: tenant.slug, projectID: projectID,
            role: key.role, scopes: Set(key.scopes), limits: key.limits, wrappedDataKey: tenant.wrappedDataKey)
    }

    /// The key and its tenant, from the cache or the database (which then also records the
    /// key's use: `last_used_at` is as fresh as the cache's time to live).
    private func lookUp(hash: String) async throws -> Lookup {
        let logger = self.logger
        let database = self.database
        return try await cache.value(for: hash) {
            let found = try await database.withControlTransaction { connection in
                let keys = ApiKeyRepository(connection, logger: logger)
                guard let found = try await keys.findUsable(secretHash: hash) else { return nil as (ApiKeyRecord, TenantRecord)? }
                try await keys.touch(id: found.key.id)
                return (found.key, found.tenant)
            }
            guard let (key, tenant) = found else { return (.unknown, Self.refusedTTL) }
            return (.found(key, tenant), Self.acceptedTTL)
        }
    }
}
