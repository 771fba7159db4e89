import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf

/// Clients and fixtures for the route and pricing tests: a project with one provider key
/// per provider, and deployments built in one line.
extension TestControlPlane {
    var routes: Llmlab_V1_RouteService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }
    var pricing: Llmlab_V1_PricingService.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }

    /// A project allowing `providers` (all when `allowed` is empty) with a key for each of `keysFor`.
    func projectWithKeys(
        _ tenant: Tenant, name: String = "routed", allowed: [Llmlab_V1_Provider] = [],
        keysFor providers: [Llmlab_V1_Provider]
    ) async throws -> (project: Llmlab_V1_Project, keys: [Llmlab_V1_Provider: Llmlab_V1_ProviderKey]) {
        let project = try await projects.createProject(.with { $0.name = name; $0.allowedProviders = allowed }, metadata: tenant.ownerAuth)
        var keys: [Llmlab_V1_Provider: Llmlab_V1_ProviderKey] = [:]
        for provider in providers {
            keys[provider] = try await providerKeys.putProviderKey(.with {
                $0.projectID = project.id
                $0.provider = provider
                $0.secret = "sk-test-\(provider)-0123456789"
                if provider == .azureOpenai {
                    $0.azure = .with { $0.endpoint = "https://acme.openai.azure.com"; $0.deployment = "gpt4o-eu"; $0.apiVersion = "2024-10-21" }
                }
            }, metadata: tenant.ownerAuth)
        }
        return (project, keys)
    }

    /// The tenant's schema scope, for reading or writing behind the API's back.
    func scope(_ tenant: Tenant) throws -> TenantScope {
        guard let id = UUID(uuidString: tenant.id) else {
            throw RPCError(code: .internalError, message: "tenant id \(tenant.id) is not a UUID")
        }
        return TenantScope(tenantID: id)
    }
}

/// A route deployment in one line.
func deployment(
    _ provider: Llmlab_V1_Provider, _ model: String, key: String, weight: Int32 = 0, priority: Int32 = 0,
    timeoutMs: Int32? = nil
) -> Llmlab_V1_RouteDeployment {
    .with {
        $0.provider = provider
        $0.model = model
        $0.providerKeyID = key
        $0.weight = weight
        $0.priority = priority
        if let timeoutMs { $0.timeoutMs = timeoutMs }
    }
}

/// The UTC day `offset` days from today, as `YYYY-MM-DD`.
func day(_ offset: Int) -> String {
    PriceDate(daysSinceEpoch: PriceDate(containing: Date()).daysSinceEpoch + offset).description
}
