import LLMLabCore
import LLMLabProto

/// Wire enums ↔ domain enums. Unspecified or unknown wire values are validation errors
/// that name the field and list the accepted values.
enum EnumMapping {
    static func role(_ role: Role) -> Llmlab_V1_Role {
        switch role {
        case .viewer: .viewer
        case .member: .member
        case .admin: .admin
        case .owner: .owner
        }
    }

    static func role(_ role: Llmlab_V1_Role, field: String) throws -> Role {
        switch role {
        case .viewer: return .viewer
        case .member: return .member
        case .admin: return .admin
        case .owner: return .owner
        case .unspecified, .UNRECOGNIZED:
            throw ValidationError(field: field, reason: "is required: one of ROLE_VIEWER, ROLE_MEMBER, ROLE_ADMIN, ROLE_OWNER")
        }
    }

    static func provider(_ provider: Provider) -> Llmlab_V1_Provider {
        switch provider {
        case .openai: .openai
        case .azureOpenAI: .azureOpenai
        case .anthropic: .anthropic
        case .gemini: .gemini
        }
    }

    static func provider(_ provider: Llmlab_V1_Provider, field: String) throws -> Provider {
        switch provider {
        case .openai: return .openai
        case .azureOpenai: return .azureOpenAI
        case .anthropic: return .anthropic
        case .gemini: return .gemini
        case .unspecified, .UNRECOGNIZED:
            throw ValidationError(field: field, reason: "is required: one of PROVIDER_OPENAI, PROVIDER_AZURE_OPENAI, PROVIDER_ANTHROPIC, PROVIDER_GEMINI")
        }
    }

    /// A provider list without duplicates, in the order given.
    static func providers(_ providers: [Llmlab_V1_Provider], field: String) throws -> [Provider] {
        var seen: Set<Provider> = []
        var result: [Provider] = []
        for (index, wire) in providers.enumerated() {
            let provider = try self.provider(wire, field: "\(field)[\(index)]")
            if seen.insert(provider).inserted { result.append(provider) }
        }
        return result
    }
}
