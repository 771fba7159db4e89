import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.UserService`: the tenant's members. Nobody grants a role above their own,
/// nobody changes someone ranked above them, and the last owner stays.
struct UserAPI: Llmlab_V1_UserService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    func addUser(request: Llmlab_V1_AddUserRequest, context: ServerContext) async throws -> Llmlab_V1_User {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let email = try Validate.email(request.email)
        let password = try Validate.password(request.password)
        let role = try EnumMapping.role(request.role, field: "role")
        try Self.requireMayGrant(role, caller: principal)
        let hash = try await plane.passwordHasher.hash(password)
        let logger = plane.logger
        let auditor = plane.auditor
        let user = try await plane.database.withControlTransaction { connection in
            let user = try await UserRepository(connection, logger: logger).insert(
                UserRecord(id: UUID(), tenantID: tenant.id, email: email, passwordHash: hash, role: role))
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "user:\(user.id.uuidString.lowercased())",
                                     detail: ["email": email, "role": role.rawValue])
            return user
        }
        return MessageMapping.user(user)
    }

    func listUsers(request: Llmlab_V1_ListUsersRequest, context: ServerContext) async throws -> Llmlab_V1_ListUsersResponse {
        let (_, tenant) = try CallContext.require().requireTenant()
        let limit = try Validate.pageSize(request.pageSize)
        let after = try PageCursor.decode(request.pageToken, expectedCount: 1)?.first
        let logger = plane.logger
        let users = try await plane.database.withControlTransaction { connection in
            try await UserRepository(connection, logger: logger).list(tenantID: tenant.id, limit: limit + 1, afterEmail: after)
        }
        let page = Page(users, limit: limit) { PageCursor.encode([$0.email]) }
        return Llmlab_V1_ListUsersResponse.with {
            $0.users = page.rows.map(MessageMapping.user)
            $0.nextPageToken = page.nextToken
        }
    }

    func setRole(request: Llmlab_V1_SetRoleRequest, context: ServerContext) async throws -> Llmlab_V1_User {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.userID, field: "user_id")
        let role = try EnumMapping.role(request.role, field: "role")
        try Self.requireMayGrant(role, caller: principal)
        let logger = plane.logger
        let auditor = plane.auditor
        let user = try await plane.database.withControlTransaction { connection in
            let users = UserRepository(connection, logger: logger)
            let owners = try await users.lockOwners(tenantID: tenant.id)
            guard let target = try await users.find(tenantID: tenant.id, id: id) else {
                throw APIError.notFound("user", request.userID)
            }
            try Self.requireMayChange(target, caller: principal)
            if target.role == .owner, role != .owner, owners == [target.id] {
                throw APIError(.failedPrecondition, "\(target.email) is the last owner and cannot be demoted; make another user owner first")
            }
            guard let updated = try await users.setRole(tenantID: tenant.id, id: id, role: role) else {
                throw APIError.notFound("user", request.userID)
            }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "user:\(id.uuidString.lowercased())",
                                     detail: ["from": target.role.rawValue, "to": role.rawValue])
            return updated
        }
        return MessageMapping.user(user)
    }

    func removeUser(request: Llmlab_V1_RemoveUserRequest, context: ServerContext) async throws -> Llmlab_V1_RemoveUserResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let id = try Validate.id(request.userID, field: "user_id")
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withControlTransaction { connection in
            let users = UserRepository(connection, logger: logger)
            let owners = try await users.lockOwners(tenantID: tenant.id)
            guard let target = try await users.find(tenantID: tenant.id, id: id) else {
                throw APIError.notFound("user", request.userID)
            }
            try Self.requireMayChange(target, caller: principal)
            if target.role == .owner, owners == [target.id] {
                throw APIError(.failedPrecondition, "\(target.email) is the last owner and cannot be removed; make another user owner first")
            }
            try await users.delete(tenantID: tenant.id, id: id)
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "user:\(id.uuidString.lowercased())",
                                     detail: ["email": target.email])
        }
        return Llmlab_V1_RemoveUserResponse()
    }

    static func requireMayGrant(_ role: Role, caller: Principal) throws {
        guard let callerRole = caller.role, role <= callerRole else {
            throw APIError(.permissionDenied, "you cannot grant \(role.rawValue): it is above your role (\(caller.role?.rawValue ?? "none"))")
        }
    }

    static func requireMayChange(_ target: UserRecord, caller: Principal) throws {
        guard let callerRole = caller.role, target.role <= callerRole else {
            throw APIError(.permissionDenied, "\(target.email) is \(target.role.rawValue), above your role (\(caller.role?.rawValue ?? "none"))")
        }
    }
}
