import HTTPTypes
import Foundation
import LLMLabCore
import LLMLabSecurity
import LLMLabStore
import Logging

/// A provider credential opened for one upstream call. Its description is redacted, so a
/// stray log line or error never carries the secret.
struct ProviderCredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    var provider: Provider
    var keyID: UUID
    var name: String
    var secret: String

    var description: String { "ProviderCredential(\(provider.rawValue)/\(name), redacted)" }
    var debugDescription: String { description }
}

/// The project behind a virtual key and the provider keys it may use.
struct ProjectProviders: Sendable {
    var project: ProjectRecord
    /// Keys of providers the project allows, in (provider, name) order.
    var keys: [ProviderKeyRecord]
    /// The project's route for the requested model, when one was asked for and exists.
    var route: RouteRecord? = nil

    /// For a provider: the key named "default", else the first by name.
    func preferredKey(for provider: Provider) -> ProviderKeyRecord? {
        let candidates = keys.filter { $0.provider == provider }
        return candidates.first { $0.name == "default" } ?? candidates.first
    }
}

/// Finds and opens the provider keys a proxy call should use: a route's deployments when
/// the model names a route alias, else the project's OpenAI key named "default" (or its
/// first OpenAI key).
struct ProviderKeyResolver: Sendable {
    let database: Database
    let keyVault: KeyVault
    let logger: Logger


    /// The key's project (refusing archived ones) and its usable provider keys.
    func providers(for key: VirtualKey, routeAlias: String? = nil) async throws -> ProjectProviders {
        let logger = self.logger
        let projectID = key.projectID
        let found = try await database.withTenantTransaction(key.tenantScope) { connection in
            guard let project = try await ProjectRepository(connection, logger: logger).find(id: projectID) else {
                return nil as ProjectProviders?
            }
            let keys = try await ProviderKeyRepository(connection, logger: logger).list(projectID: projectID)
            var route: RouteRecord?
            if let routeAlias {
                route = try await RouteRepository(connection, logger: logger).find(projectID: projectID, alias: routeAlias)
            }
            return ProjectProviders(project: project, keys: keys, route: route)
        }
        guard var providers = found else {
            throw GatewayError(.forbidden, .permission,
                               "the API key's project \(projectID.uuidString.lowercased()) no longer exists; create a key for an existing project",
                               code: "project_not_found")
        }
        guard providers.project.archivedAt == nil else {
            throw GatewayError(.forbidden, .permission,
                               "project \(providers.project.name) is archived; unarchive it or use a key of a live project",
                               code: "project_archived")
        }
        let allowed = providers.project.allowedProviders
        if !allowed.isEmpty {
            providers.keys.removeAll { !allowed.contains($0.provider) }
        }
        return providers
    }

    /// The candidates for a chat completion with `model`: the deployments of the project's
    /// route named `model` (OpenAI ones for now), ordered by priority and the route's
    /// strategy, without those cooling down; else the project's default OpenAI key.
    func plan(for key: VirtualKey, model: String, health: DeploymentHealthTracker, now: Date = Date()) async throws -> UpstreamPlan {
        let providers = try await providers(for: key, routeAlias: model)
        guard let route = providers.route else {
            guard let record = providers.preferredKey(for: .openai) else {
                throw GatewayError(.notFound, .invalidRequest,
                                   "the model '\(model)' is not available to project \(providers.project.name): it has no OpenAI provider key; add one with 'llmlab-admin key put --project \(key.projectID.uuidString.lowercased()) --provider openai'",
                                   param: "model", code: "model_not_found")
            }
            return UpstreamPlan(route: nil, targets: [UpstreamTarget(credential: try open(record, for: key), model: model)])
        }
        let usable = route.deployments.filter { deployment in
            guard deployment.provider == .openai else {
                logger.debug("route deployment skipped: provider not supported by the proxy yet",
                             metadata: ["route": "\(route.alias)", "provider": "\(deployment.provider.rawValue)", "model": "\(deployment.model)"])
                return false
            }
            guard providers.keys.contains(where: { $0.id == deployment.providerKeyID }) else {
                logger.debug("route deployment skipped: its provider key is gone or not allowed",
                             metadata: ["route": "\(route.alias)", "provider_key": "\(deployment.providerKeyID)"])
                return false
            }
            return true
        }
        guard !usable.isEmpty else {
            throw GatewayError(.notFound, .invalidRequest,
                               "route '\(route.alias)' of project \(providers.project.name) has no deployment the proxy can call yet (only OpenAI deployments with an allowed provider key are supported)",
                               param: "model", code: "model_not_found")
        }
        var generator = SystemRandomNumberGenerator()
        let ordered = RouteOrdering.order(usable, strategy: route.strategy, latency: {
            health.latency(.init(providerKeyID: $0.providerKeyID, model: $0.model))
        }, using: &generator)
        var targets: [UpstreamTarget] = []
        var earliest: Date?
        for deployment in ordered {
            let healthKey = DeploymentHealthTracker.Key(providerKeyID: deployment.providerKeyID, model: deployment.model)
            if let until = health.coolingUntil(healthKey, now: now) {
                earliest = min(earliest ?? until, until)
                continue
            }
            guard let record = providers.keys.first(where: { $0.id == deployment.providerKeyID }) else { continue }
            targets.append(UpstreamTarget(
                credential: try open(record, for: key), model: deployment.model, routeID: route.id,
                deployment: "\(deployment.provider.rawValue):\(deployment.model)@\(record.name)",
                timeout: deployment.timeoutMilliseconds.map { .milliseconds($0) }, healthKey: healthKey))
        }
        return UpstreamPlan(route: route, targets: targets, allCoolingUntil: targets.isEmpty ? earliest : nil)
    }

    func open(_ record: ProviderKeyRecord, for key: VirtualKey) throws -> ProviderCredential {
        do {
            let dataKey = try keyVault.unwrap([UInt8](key.wrappedDataKey), tenantID: key.tenantID.uuidString.lowercased())
            let secret = try dataKey.open([UInt8](record.sealedSecret),
                                          associatedData: ProviderKeyBinding.associatedData(tenantID: key.tenantID, keyID: record.id))
            return ProviderCredential(provider: record.provider, keyID: record.id, name: record.name, secret: secret)
        } catch {
            logger.error("a provider key could not be opened: was the master key replaced without rotation?",
                         metadata: ["provider_key": "\(record.id.uuidString.lowercased())", "error": "\(error)"])
            throw GatewayError(.internalServerError, .api,
                               "the project's \(record.provider.rawValue) key '\(record.name)' could not be decrypted; store it again with 'llmlab-admin key put'",
                               code: "provider_key_unreadable")
        }
    }
}
