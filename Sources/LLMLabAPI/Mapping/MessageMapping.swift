import Foundation
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf

/// Store records → wire messages. Secrets never appear here: there is no field to put
/// one in except `CreateApiKeyResponse.secret`, filled once by its handler.
enum MessageMapping {
    static func timestamp(_ date: Date) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(date: date)
    }

    static func tenant(_ record: TenantRecord) -> Llmlab_V1_Tenant {
        Llmlab_V1_Tenant.with {
            $0.id = record.id.uuidString.lowercased()
            $0.slug = record.slug
            $0.displayName = record.displayName
            $0.status = record.status == .active ? .active : .suspended
            $0.suspendedReason = record.suspendedReason
            $0.createdAt = timestamp(record.createdAt)
        }
    }

    static func user(_ record: UserRecord) -> Llmlab_V1_User {
        Llmlab_V1_User.with {
            $0.id = record.id.uuidString.lowercased()
            $0.email = record.email
            $0.role = EnumMapping.role(record.role)
            $0.createdAt = timestamp(record.createdAt)
        }
    }

    static func apiKey(_ record: ApiKeyRecord) -> Llmlab_V1_ApiKey {
        Llmlab_V1_ApiKey.with {
            $0.id = record.id.uuidString.lowercased()
            $0.name = record.name
            $0.prefix = record.prefix
            $0.role = EnumMapping.role(record.role)
            $0.projectID = record.projectID?.uuidString.lowercased() ?? ""
            $0.scopes = record.scopes
            $0.createdBy = record.createdBy
            $0.createdAt = timestamp(record.createdAt)
            if let expires = record.expiresAt { $0.expiresAt = timestamp(expires) }
            if let revoked = record.revokedAt { $0.revokedAt = timestamp(revoked) }
            if let used = record.lastUsedAt { $0.lastUsedAt = timestamp(used) }
            $0.monthlyBudgetUsd = record.limits.monthlyBudget?.description ?? ""
            $0.rpmLimit = Int32(clamping: record.limits.rpm ?? 0)
            $0.tpmLimit = Int32(clamping: record.limits.tpm ?? 0)
        }
    }

    static func project(_ record: ProjectRecord) -> Llmlab_V1_Project {
        Llmlab_V1_Project.with {
            $0.id = record.id.uuidString.lowercased()
            $0.name = record.name
            $0.monthlyBudgetUsd = record.monthlyBudget?.description ?? ""
            $0.allowedProviders = record.allowedProviders.map(EnumMapping.provider)
            $0.createdAt = timestamp(record.createdAt)
            $0.updatedAt = timestamp(record.updatedAt)
            if let archived = record.archivedAt { $0.archivedAt = timestamp(archived) }
            $0.captureContent = record.captureContent
            $0.traceRetentionDays = Int32(clamping: record.traceRetentionDays)
        }
    }

    static func providerKey(_ record: ProviderKeyRecord) -> Llmlab_V1_ProviderKey {
        Llmlab_V1_ProviderKey.with {
            $0.id = record.id.uuidString.lowercased()
            $0.projectID = record.projectID.uuidString.lowercased()
            $0.provider = EnumMapping.provider(record.provider)
            $0.name = record.name
            $0.lastFour = record.lastFour
            if record.provider == .azureOpenAI {
                $0.azure = Llmlab_V1_AzureTarget.with {
                    $0.endpoint = record.azureEndpoint
                    $0.deployment = record.azureDeployment
                    $0.apiVersion = record.azureAPIVersion
                }
            }
            $0.createdAt = timestamp(record.createdAt)
            if let rotated = record.rotatedAt { $0.rotatedAt = timestamp(rotated) }
        }
    }

    static func auditEvent(_ record: AuditRecord) -> Llmlab_V1_AuditEvent {
        Llmlab_V1_AuditEvent.with {
            $0.sequence = record.sequence
            $0.occurredAt = timestamp(record.occurredAt)
            $0.actor = record.actor
            $0.action = record.action
            $0.target = record.target
            $0.requestID = record.requestID
            $0.outcome = record.outcome.rawValue
            $0.detail = record.detail
            $0.prevHash = record.previousHash
            $0.hash = record.hash
        }
    }

    static func principal(_ principal: Principal) -> Llmlab_V1_Principal {
        Llmlab_V1_Principal.with {
            switch principal.kind {
            case .user: $0.kind = .user
            case .apiKey: $0.kind = .apiKey
            case .operator: $0.kind = .operator
            }
            $0.tenantID = principal.tenantID?.uuidString.lowercased() ?? ""
            $0.tenantSlug = principal.tenantSlug
            $0.userID = principal.userID?.uuidString.lowercased() ?? ""
            $0.email = principal.email
            if let role = principal.role { $0.role = EnumMapping.role(role) }
            if principal.kind == .apiKey { $0.apiKeyID = principal.id.uuidString.lowercased() }
            $0.projectID = principal.projectID?.uuidString.lowercased() ?? ""
            $0.scopes = principal.scopes.sorted()
        }
    }
}
