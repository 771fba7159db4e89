import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.AuthService`: sign-in, sessions and API keys.
struct AuthAPI: Llmlab_V1_AuthService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    /// Login with its metadata: the dashboard, calling in process for a browser, names the
    /// browser's address (``clientAddressKey``) so throttling counts failures per browser
    /// rather than per server (otherwise one attacker would lock every dashboard user out).
    func login(request: ServerRequest<Llmlab_V1_LoginRequest>, context: ServerContext) async throws
        -> ServerResponse<Llmlab_V1_LoginResponse>
    {
        let address = Self.forwardedClientAddress(request.metadata, peer: context.remotePeer)
        return ServerResponse(message: try await login(request: request.message, context: context, clientAddress: address), metadata: [:])
    }

    func login(request: Llmlab_V1_LoginRequest, context: ServerContext) async throws -> Llmlab_V1_LoginResponse {
        try await login(request: request, context: context, clientAddress: nil)
    }

    /// Metadata naming the end client's address; honoured only from the in-process transport.
    static let clientAddressKey = "x-llmlab-client-address"

    /// The address in ``clientAddressKey`` when the call came over the in-process transport
    /// (its peer is `in-process` or `in-process:<pid>`: only code inside this server can
    /// make such calls); `nil` for any network peer, which could claim any address.
    static func forwardedClientAddress(_ metadata: Metadata, peer: String) -> String? {
        guard peer == "in-process" || peer.hasPrefix("in-process:") else { return nil }
        guard let value = metadata[stringValues: clientAddressKey].first(where: { _ in true }) else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.count <= 64,
              trimmed.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".:[]%".unicodeScalars.contains($0)) })
        else { return nil }
        return trimmed
    }

    func login(request: Llmlab_V1_LoginRequest, context: ServerContext, clientAddress: String?) async throws -> Llmlab_V1_LoginResponse {
        let slug = try Validate.slug(request.tenant, field: "tenant")
        let email = try Validate.email(request.email)
        guard !request.password.isEmpty else { throw ValidationError(field: "password", reason: "is required") }
        guard request.password.utf8.count <= PasswordHasher.maxPasswordBytes else {
            throw ValidationError(field: "password", reason: "must be at most \(PasswordHasher.maxPasswordBytes) bytes")
        }
        let call = try CallContext.require()
        let account = "\(slug)/\(email)"
        let peer = clientAddress.map { "client:\($0)" } ?? Self.peerAddress(call.peer)
        if let wait = await plane.throttle.waitRequired(account: account, peer: peer) {
            let seconds = Int(wait.components.seconds) + 1
            throw APIError(.resourceExhausted, "too many failed sign-ins; wait \(seconds) s before trying again")
        }
        let logger = plane.logger
        let found = try await plane.database.withControlTransaction { connection -> (TenantRecord, UserRecord?)? in
            guard let tenant = try await TenantRepository(connection, logger: logger).find(slug: slug) else { return nil }
            return (tenant, try await UserRepository(connection, logger: logger).find(tenantID: tenant.id, email: email))
        }
        guard let (tenant, maybeUser) = found, let user = maybeUser else {
            // Same work and same answer as a wrong password: existence is not revealed.
            await plane.passwordHasher.verifyDummy(request.password)
            await plane.throttle.recordFailure(account: account, peer: peer)
            throw Self.wrongCredentials
        }
        guard try await plane.passwordHasher.verify(request.password, against: user.passwordHash) else {
            await plane.throttle.recordFailure(account: account, peer: peer)
            let auditor = plane.auditor
            try await plane.database.withControlTransaction { connection in
                try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "user:\(user.id.uuidString.lowercased())",
                                         outcome: .denied, detail: ["reason": "wrong password", "peer": peer],
                                         actor: "user:\(user.id.uuidString.lowercased())")
            }
            throw Self.wrongCredentials
        }
        await plane.throttle.recordSuccess(account: account)
        guard tenant.status == .active else {
            throw APIError(.failedPrecondition, "tenant \(tenant.slug) is suspended; ask the operator to resume it")
        }
        let token = SecretToken.issue(.session)
        let lifetime = TimeInterval(plane.configuration.sessionLifetime.components.seconds)
        let expiresAt = Date().addingTimeInterval(lifetime)
        let auditor = plane.auditor
        try await plane.database.withControlTransaction { connection in
            try await SessionRepository(connection, logger: logger).insert(
                tokenHash: token.sha256Hex, userID: user.id, tenantID: tenant.id, expiresAt: expiresAt)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "user:\(user.id.uuidString.lowercased())",
                                     detail: ["peer": peer], actor: "user:\(user.id.uuidString.lowercased())")
        }
        let principal = Principal(kind: .user, id: user.id, tenantID: tenant.id, tenantSlug: tenant.slug,
                                  role: user.role, email: user.email, userID: user.id)
        return Llmlab_V1_LoginResponse.with {
            $0.sessionToken = token.secret
            $0.expiresAt = MessageMapping.timestamp(expiresAt)
            $0.principal = MessageMapping.principal(principal)
        }
    }

    static let wrongCredentials = APIError(.unauthenticated, "the tenant, email or password is wrong")

    /// `ipv4:127.0.0.1:5555` → `ipv4:127.0.0.1`: throttle by address, not by connection.
    static func peerAddress(_ peer: String) -> String {
        guard let colon = peer.lastIndex(of: ":"), peer.hasPrefix("ipv") else { return peer }
        return String(peer[..<colon])
    }

    func logout(request: Llmlab_V1_LogoutRequest, context: ServerContext) async throws -> Llmlab_V1_LogoutResponse {
        let principal = try CallContext.require().requirePrincipal()
        guard let hash = principal.sessionTokenHash, let tenantID = principal.tenantID else {
            throw APIError(.failedPrecondition, "only a sign-in session can log out; API keys are revoked with 'llmlab-admin apikey revoke'")
        }
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withControlTransaction { connection in
            try await SessionRepository(connection, logger: logger).delete(tokenHash: hash)
            try await auditor.record(on: connection, log: .tenant(TenantScope(tenantID: tenantID)), target: principal.actor)
        }
        return Llmlab_V1_LogoutResponse()
    }

    func whoAmI(request: Llmlab_V1_WhoAmIRequest, context: ServerContext) async throws -> Llmlab_V1_Principal {
        MessageMapping.principal(try CallContext.require().requirePrincipal())
    }

    func createApiKey(request: Llmlab_V1_CreateApiKeyRequest, context: ServerContext) async throws -> Llmlab_V1_CreateApiKeyResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let name = try Validate.name(request.name, field: "name", maxLength: 100)
        let role = try EnumMapping.role(request.role, field: "role")
        guard let callerRole = principal.role, role <= callerRole else {
            throw APIError(.permissionDenied, "an API key's role cannot be higher than yours (\(principal.role?.rawValue ?? "none"))")
        }
        var projectID = try Validate.optionalID(request.projectID, field: "project_id")
        if let scoped = principal.projectID {
            guard projectID == nil || projectID == scoped else { throw APIError.notFound("project", request.projectID) }
            projectID = scoped
        }
        var expiresAt: Date?
        if request.hasExpiresAt {
            let date = request.expiresAt.date
            guard date > Date() else { throw ValidationError(field: "expires_at", reason: "must be in the future") }
            expiresAt = date
        }
        let scopes = try Self.scopes(request.scopes)
        let limits = try Self.limitChanges(
            monthlyBudgetUsd: request.monthlyBudgetUsd, rpmLimit: request.hasRpmLimit ? request.rpmLimit : nil,
            tpmLimit: request.hasTpmLimit ? request.tpmLimit : nil, zeroClears: false, scopes: scopes
        ).asLimits
        let keyProjectID = projectID
        let token = SecretToken.issue(.apiKey)
        let logger = plane.logger
        let auditor = plane.auditor
        let record = ApiKeyRecord(
            id: UUID(), tenantID: tenant.id, name: name, prefix: token.displayPrefix, role: role,
            projectID: keyProjectID, scopes: scopes, createdBy: principal.actor, expiresAt: expiresAt, limits: limits)
        if let projectID = keyProjectID {
            try await ProjectAPI.requireLiveProject(projectID, tenant: tenant, plane: plane)
        }
        let created = try await plane.database.withControlTransaction { connection in
            let created = try await ApiKeyRepository(connection, logger: logger).insert(record, secretHash: token.sha256Hex)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "apikey:\(created.id.uuidString.lowercased())",
                                     detail: ["name": name, "role": role.rawValue, "scopes": scopes.joined(separator: ","),
                                              "project": keyProjectID?.uuidString.lowercased() ?? "",
                                              "monthly_budget_usd": limits.monthlyBudget?.description ?? "none",
                                              "rpm_limit": limits.rpm.map(String.init) ?? "none",
                                              "tpm_limit": limits.tpm.map(String.init) ?? "none"])
            return created
        }
        return Llmlab_V1_CreateApiKeyResponse.with {
            $0.apiKey = MessageMapping.apiKey(created)
            $0.secret = token.secret
        }
    }

    /// Per-key limits as a request states them: `nil` leaves a limit as it is, `.some(nil)`
    /// means none. The one place CreateApiKey and UpdateApiKey validate limits.
    struct LimitChanges: Equatable {
        var monthlyBudget: USDAmount??
        var rpm: Int??
        var tpm: Int??

        /// What a new key gets: every limit left alone is none.
        var asLimits: ApiKeyLimits {
            ApiKeyLimits(monthlyBudget: monthlyBudget ?? nil, rpm: rpm ?? nil, tpm: tpm ?? nil)
        }
    }

    /// Parses the limits a request sends (nil = field unset), each error naming its field.
    /// A budget of "" means none. With `zeroClears` (UpdateApiKey), a limit of 0 removes it;
    /// otherwise (CreateApiKey) a set limit must be positive. Setting a limit needs the key
    /// to carry the proxy scope: limits act on proxy calls only.
    static func limitChanges(
        monthlyBudgetUsd: String?, rpmLimit: Int32?, tpmLimit: Int32?, zeroClears: Bool, scopes: [String]
    ) throws -> LimitChanges {
        var changes = LimitChanges()
        if let budget = monthlyBudgetUsd {
            changes.monthlyBudget = .some(budget.isEmpty ? nil : try USDAmount.parse(budget, field: "monthly_budget_usd"))
        }
        changes.rpm = try rateLimit(rpmLimit, field: "rpm_limit", unit: "requests per minute", zeroClears: zeroClears)
        changes.tpm = try rateLimit(tpmLimit, field: "tpm_limit", unit: "tokens per minute", zeroClears: zeroClears)
        var limitedFields: [String] = []
        if case .some(.some) = changes.monthlyBudget { limitedFields.append("monthly_budget_usd") }
        if case .some(.some) = changes.rpm { limitedFields.append("rpm_limit") }
        if case .some(.some) = changes.tpm { limitedFields.append("tpm_limit") }
        if let field = limitedFields.first, !scopes.contains(ApiKeyScope.proxy) {
            // Say so rather than store a limit that never applies.
            let reason = zeroClears
                ? "limits apply to proxy calls only and this key has no proxy scope; create a key with --scopes proxy to limit it"
                : "limits apply to proxy calls only; add the proxy scope (--scopes proxy) or drop the limit"
            throw ValidationError(field: field, reason: reason)
        }
        return changes
    }

    private static func rateLimit(_ value: Int32?, field: String, unit: String, zeroClears: Bool) throws -> Int?? {
        guard let value else { return nil }
        if zeroClears {
            guard value >= 0 else {
                throw ValidationError(field: field, reason: "must not be negative (got \(value)); send a positive number of \(unit), or 0 to remove the limit")
            }
            return .some(value == 0 ? nil : Int(value))
        }
        guard value > 0 else {
            throw ValidationError(field: field, reason: "must be a positive number of \(unit) (got \(value)); leave it unset for no limit")
        }
        return .some(Int(value))
    }

    static func scopes(_ requested: [String]) throws -> [String] {
        if requested.isEmpty { return [ApiKeyScope.control] }
        var result: [String] = []
        for (index, scope) in requested.enumerated() {
            guard ApiKeyScope.all.contains(scope) else {
                throw ValidationError(field: "scopes[\(index)]", reason: "\"\(scope)\" is not a scope; use control, proxy or ingest")
            }
            if !result.contains(scope) { result.append(scope) }
        }
        return result
    }

    func listApiKeys(request: Llmlab_V1_ListApiKeysRequest, context: ServerContext) async throws -> Llmlab_V1_ListApiKeysResponse {
        let (_, tenant) = try CallContext.require().requireTenant()
        let limit = try Validate.pageSize(request.pageSize)
        let before = try PageCursor.decodeDateID(request.pageToken)
        let logger = plane.logger
        let keys = try await plane.database.withControlTransaction { connection in
            try await ApiKeyRepository(connection, logger: logger).list(
                tenantID: tenant.id, includeRevoked: request.includeRevoked, limit: limit + 1, before: before)
        }
        let page = Page(keys, limit: limit) { PageCursor.encode(date: $0.createdAt, id: $0.id) }
        return Llmlab_V1_ListApiKeysResponse.with {
            $0.apiKeys = page.rows.map(MessageMapping.apiKey)
            $0.nextPageToken = page.nextToken
        }
    }

    func revokeApiKey(request: Llmlab_V1_RevokeApiKeyRequest, context: ServerContext) async throws -> Llmlab_V1_ApiKey {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let logger = plane.logger
        let auditor = plane.auditor
        let revoked = try await plane.database.withControlTransaction { connection in
            let keys = ApiKeyRepository(connection, logger: logger)
            guard let key = try await keys.find(tenantID: tenant.id, id: id),
                  principal.projectID == nil || key.projectID == principal.projectID
            else { throw APIError.notFound("API key", request.id) }
            try Self.requireMayManage(key, principal: principal, action: "revoke")
            guard let revoked = try await keys.revoke(tenantID: tenant.id, id: id) else { throw APIError.notFound("API key", request.id) }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "apikey:\(id.uuidString.lowercased())",
                                     detail: ["name": key.name])
            return revoked
        }
        return MessageMapping.apiKey(revoked)
    }

    func updateApiKey(request: Llmlab_V1_UpdateApiKeyRequest, context: ServerContext) async throws -> Llmlab_V1_ApiKey {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.id, field: "id")
        let name = request.hasName ? try Validate.name(request.name, field: "name", maxLength: 100) : nil
        guard request.hasName || request.hasMonthlyBudgetUsd || request.hasRpmLimit || request.hasTpmLimit else {
            throw ValidationError(field: "name", reason: "nothing to change: set name, monthly_budget_usd, rpm_limit or tpm_limit")
        }
        let logger = plane.logger
        let auditor = plane.auditor
        let updated = try await plane.database.withControlTransaction { connection in
            let keys = ApiKeyRepository(connection, logger: logger)
            guard let key = try await keys.find(tenantID: tenant.id, id: id),
                  principal.projectID == nil || key.projectID == principal.projectID
            else { throw APIError.notFound("API key", request.id) }
            try Self.requireMayManage(key, principal: principal, action: "change")
            guard key.revokedAt == nil else {
                throw APIError(.failedPrecondition, "API key \(key.name) is revoked and cannot be changed; create a new key instead")
            }
            // Validated against the stored key's scopes: a limit needs the proxy scope.
            let limits = try Self.limitChanges(
                monthlyBudgetUsd: request.hasMonthlyBudgetUsd ? request.monthlyBudgetUsd : nil,
                rpmLimit: request.hasRpmLimit ? request.rpmLimit : nil,
                tpmLimit: request.hasTpmLimit ? request.tpmLimit : nil, zeroClears: true, scopes: key.scopes)
            guard let updated = try await keys.update(
                tenantID: tenant.id, id: id, name: name, monthlyBudget: limits.monthlyBudget, rpm: limits.rpm, tpm: limits.tpm)
            else {
                throw APIError(.failedPrecondition, "API key \(key.name) was revoked meanwhile and cannot be changed")
            }
            var detail = ["name": updated.name]
            if name != nil, key.name != updated.name { detail["previous_name"] = key.name }
            if let budget = limits.monthlyBudget { detail["monthly_budget_usd"] = budget?.description ?? "none" }
            if let rpm = limits.rpm { detail["rpm_limit"] = rpm.map(String.init) ?? "none" }
            if let tpm = limits.tpm { detail["tpm_limit"] = tpm.map(String.init) ?? "none" }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "apikey:\(id.uuidString.lowercased())",
                                     detail: detail)
            return updated
        }
        return MessageMapping.apiKey(updated)
    }

    /// Who may revoke or change a key: its creator, or an admin; never a key of a higher role than the caller's.
    static func requireMayManage(_ key: ApiKeyRecord, principal: Principal, action: String) throws {
        let callerRole = principal.role ?? .viewer
        guard key.role <= callerRole, callerRole >= .admin || key.createdBy == principal.actor else {
            throw APIError(.permissionDenied, "you may \(action) keys you created, or any key as an admin; this key's role is \(key.role.rawValue)")
        }
    }
}
