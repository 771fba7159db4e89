import Foundation
import LLMLabCore
import LLMLabProto

/// Input rules for provider keys. Errors name the field but never echo a secret.
enum ProviderKeyValidation {
    struct Azure {
        var endpoint: String
        var deployment: String
        var apiVersion: String
    }

    /// Key names label several keys of one provider: short, URL- and CLI-safe.
    static func keyName(_ value: String) throws -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard (1...64).contains(value.count), value.unicodeScalars.allSatisfy(allowed.contains) else {
            throw ValidationError(field: "name", reason: "use 1-64 letters, digits, '-', '_' or '.' (default \"default\")")
        }
        return value
    }

    static func secret(_ value: String) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ValidationError(field: "secret", reason: "is required") }
        guard trimmed.utf8.count <= 4096 else { throw ValidationError(field: "secret", reason: "must be at most 4096 bytes") }
        guard trimmed.utf8.count >= 8 else { throw ValidationError(field: "secret", reason: "is too short to be a provider API key") }
        guard !trimmed.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw ValidationError(field: "secret", reason: "must not contain spaces or line breaks")
        }
        return trimmed
    }

    static func azure(_ target: Llmlab_V1_AzureTarget, present: Bool) throws -> Azure {
        guard present else {
            throw ValidationError(field: "azure", reason: "is required for PROVIDER_AZURE_OPENAI: endpoint, deployment and api_version")
        }
        let endpoint = target.endpoint.trimmingCharacters(in: .whitespaces)
        guard let url = URL(string: endpoint), let scheme = url.scheme, let host = url.host, !host.isEmpty,
              scheme == "https" || (scheme == "http" && ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host))
        else {
            throw ValidationError(field: "azure.endpoint", reason: "must be an https URL such as https://my-resource.openai.azure.com (http only for localhost)")
        }
        let deployment = target.deployment
        let deploymentChars = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard (1...64).contains(deployment.count), deployment.unicodeScalars.allSatisfy(deploymentChars.contains) else {
            throw ValidationError(field: "azure.deployment", reason: "use the deployment name from Azure: 1-64 letters, digits, '-', '_' or '.'")
        }
        let version = target.apiVersion
        guard isAPIVersion(version) else {
            throw ValidationError(field: "azure.api_version", reason: "use an Azure OpenAI api-version such as \"2024-10-21\" or \"2025-04-01-preview\", or \"v1\"")
        }
        return Azure(endpoint: endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint, deployment: deployment, apiVersion: version)
    }

    static func isAPIVersion(_ value: String) -> Bool {
        if ["v1", "latest", "preview"].contains(value) { return true }
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3 || (parts.count == 4 && parts[3] == "preview") else { return false }
        return parts[0].count == 4 && parts[1].count == 2 && parts[2].count == 2
            && parts.prefix(3).allSatisfy { $0.allSatisfy(\.isNumber) }
    }
}
