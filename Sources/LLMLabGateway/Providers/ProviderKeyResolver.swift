import HTTPTypes
import Foundation
import LLMLabCore
import LLMLabSecurity
import LLMLabStore
import Logging
import Synchronization

/// A provider credential opened for one upstream call. Its description is redacted, so a
/// stray log line or error never carries the secret.
struct ProviderCredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    var provider: Provider
    var keyID: UUID
    var name: String
    var secret: String
    /// Azure OpenAI keys: the resource endpoint, deployment and API version stored with the key.
    var azureEndpoint = ""
    var azureDeployment = ""
    var azureAPIVersion = ""

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
    /// Provider keys already opened for this project (shared with the cache).
    var credentials: OpenedCredentials? = nil
    /// Every route of the project.
    var routes: [RouteRecord] = []

    /// For a provider: the key named "default", else the first by name.
    func preferredKey(for provider: Provider) -> ProviderKeyRecord? {
        let candidates = keys.filter { $0.provider == provider }
        return candidates.first { $0.name == "default" } ?? candidates.first
    }
}

/// Finds and opens the provider keys a proxy call should use: a route's deployments when
/// the model names a route alias, else the key of the first allowed provider that serves
/// the model (``ModelProviders``).
///
/// A project's configuration (project, provider keys, routes) and its opened provider keys
/// are cached per project (``ConfigurationCache``, ``snapshotTTL``), so a proxied call
/// normally costs no database round trip.
struct ProviderKeyResolver: Sendable {
    let database: Database
    let keyVault: KeyVault
    let logger: Logger
    let cache: ConfigurationCache<UUID, ProjectSnapshot?>

    static let snapshotTTL: Duration = .seconds(10)

    init(database: Database, keyVault: KeyVault, logger: Logger) {
        self.database = database
        self.keyVault = keyVault
        self.logger = logger
        self.cache = ConfigurationCache(changes: database.changes)
    }

    /// The key's project (refusing archived ones) and its usable provider keys.
    func providers(for key: VirtualKey, routeAlias: String? = nil) async throws -> ProjectProviders {
        guard let snapshot = try await snapshot(for: key) else {
            throw GatewayError(.forbidden, .permission,
                               "the API key's project \(key.projectID.uuidString.lowercased()) no longer exists; create a key for an existing project",
                               code: "project_not_found")
        }
        var providers = ProjectProviders(project: snapshot.project, keys: snapshot.keys,
                                         route: routeAlias.flatMap { snapshot.routes[$0] })
        providers.credentials = snapshot.credentials
        providers.routes = Array(snapshot.routes.values)
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

    /// The project's configuration, cached.
    private func snapshot(for key: VirtualKey) async throws -> ProjectSnapshot? {
        let logger = self.logger
        let projectID = key.projectID
        let database = self.database
        return try await cache.value(for: projectID) {
            let snapshot = try await database.withTenantTransaction(key.tenantScope) { connection in
                guard let project = try await ProjectRepository(connection, logger: logger).find(id: projectID) else {
                    return nil as ProjectSnapshot?
                }
                let keys = try await ProviderKeyRepository(connection, logger: logger).list(projectID: projectID)
                let routes = try await RouteRepository(connection, logger: logger).list(projectID: projectID, limit: 100_000, after: nil)
                return ProjectSnapshot(project: project, keys: keys,
                                       routes: Dictionary(routes.map { ($0.alias, $0) }, uniquingKeysWith: { first, _ in first }))
            }
            return (snapshot, Self.snapshotTTL)
        }
    }

    /// The candidates for a call with `model`: the deployments of the project's route named
    /// `model`, ordered by priority and the route's strategy, without those cooling down;
    /// else the first provider the project allows that serves the model
    /// (``ModelProviders``). `operation` filters out providers that cannot do it.
    func plan(for key: VirtualKey, model: String, operation: ProviderEndpoint.Operation = .generate,
              health: DeploymentHealthTracker, now: Date = Date()) async throws -> UpstreamPlan {
        let providers = try await providers(for: key, routeAlias: model)
        let canServe: (Provider) -> Bool = { operation == .generate || $0 != .anthropic }
        guard let route = providers.route else {
            let keys = providers.keys.filter { canServe($0.provider) }
            guard let (record, providerModel) = ModelProviders.choose(model: model, keys: keys, allowed: providers.project.allowedProviders) else {
                if operation == .embed, ModelProviders.choose(model: model, keys: providers.keys, allowed: providers.project.allowedProviders)?.0.provider == .anthropic {
                    throw GatewayError(.badRequest, .invalidRequest,
                                       "Anthropic has no embeddings API, and project \(providers.project.name) has no OpenAI, Azure OpenAI or Gemini key for '\(model)'; add one with 'llmlab-admin key put --project \(key.projectID.uuidString.lowercased()) --provider openai' or route the model to an embedding model",
                                       param: "model", code: "unsupported_operation")
                }
                let held = Set(providers.keys.map(\.provider.rawValue)).sorted()
                let have = held.isEmpty ? "it holds no provider keys" : "its keys (\(held.joined(separator: ", "))) do not serve it"
                let owner = Provider.allCases.first { $0 != .azureOpenAI && ModelProviders.serves($0, model: model) }
                let servedBy = owner.map { " ('\(model)' is \($0.article) \($0.displayName) model)" } ?? ""
                throw GatewayError(.notFound, .invalidRequest,
                                   "the model '\(model)' is not available to project \(providers.project.name): \(have)\(servedBy); add a key with 'llmlab-admin key put --project \(key.projectID.uuidString.lowercased()) --provider \(owner?.rawValue ?? "…")' or a route with 'llmlab-admin route set'",
                                   param: "model", code: "model_not_found")
            }
            return UpstreamPlan(route: nil, targets: [UpstreamTarget(credential: try open(record, for: key, cache: providers.credentials), model: providerModel)])
        }
        let usable = route.deployments.filter { deployment in
            guard canServe(deployment.provider) else { return false }
            guard let record = providers.keys.first(where: { $0.id == deployment.providerKeyID }), record.provider == deployment.provider else {
                logger.debug("route deployment skipped: its provider key is gone or not allowed",
                             metadata: ["route": "\(route.alias)", "provider_key": "\(deployment.providerKeyID)"])
                return false
            }
            return true
        }
        guard !usable.isEmpty else {
            throw GatewayError(.notFound, .invalidRequest,
                               "route '\(route.alias)' of project \(providers.project.name) has no deployment the proxy can call: every deployment's provider key is gone or not allowed\(operation == .embed ? ", or its provider has no embeddings API" : ""); fix it with 'llmlab-admin route set'",
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
                credential: try open(record, for: key, cache: providers.credentials), model: deployment.model, routeID: route.id,
                deployment: "\(deployment.provider.rawValue):\(deployment.model)@\(record.name)",
                timeout: deployment.timeoutMilliseconds.map { .milliseconds($0) }, healthKey: healthKey))
        }
        return UpstreamPlan(route: route, targets: targets, allCoolingUntil: targets.isEmpty ? earliest : nil)
    }

    /// Opens a provider key, reusing the snapshot's already opened copy.
    func open(_ record: ProviderKeyRecord, for key: VirtualKey, cache: OpenedCredentials?) throws -> ProviderCredential {
        if let cached = cache?.credential(for: record) { return cached }
        let credential = try open(record, for: key)
        cache?.store(credential, for: record)
        return credential
    }

    func open(_ record: ProviderKeyRecord, for key: VirtualKey) throws -> ProviderCredential {
        do {
            let dataKey = try keyVault.unwrap([UInt8](key.wrappedDataKey), tenantID: key.tenantID.uuidString.lowercased())
            let secret = try dataKey.open([UInt8](record.sealedSecret),
                                          associatedData: ProviderKeyBinding.associatedData(tenantID: key.tenantID, keyID: record.id))
            return ProviderCredential(provider: record.provider, keyID: record.id, name: record.name, secret: secret,
                                      azureEndpoint: record.azureEndpoint, azureDeployment: record.azureDeployment,
                                      azureAPIVersion: record.azureAPIVersion)
        } catch {
            logger.error("a provider key could not be opened: was the master key replaced without rotation?",
                         metadata: ["provider_key": "\(record.id.uuidString.lowercased())", "error": "\(error)"])
            throw GatewayError(.internalServerError, .api,
                               "the project's \(record.provider.rawValue) key '\(record.name)' could not be decrypted; store it again with 'llmlab-admin key put'",
                               code: "provider_key_unreadable")
        }
    }
}

/// A project's configuration as the proxy caches it.
struct ProjectSnapshot: Sendable {
    var project: ProjectRecord
    var keys: [ProviderKeyRecord]
    /// Routes by alias.
    var routes: [String: RouteRecord]
    /// Provider keys opened so far; lives and dies with the snapshot.
    let credentials = OpenedCredentials()
}

/// Provider keys opened for one cached project snapshot, so the data key is unwrapped and
/// the secret decrypted once per snapshot rather than once per request. Keyed by key id and
/// its rotation time, so a rotated key is opened again.
final class OpenedCredentials: Sendable {
    private let opened = Mutex([String: ProviderCredential]())

    private static func slot(_ record: ProviderKeyRecord) -> String {
        "\(record.id)|\(record.rotatedAt?.timeIntervalSince1970 ?? 0)"
    }

    func credential(for record: ProviderKeyRecord) -> ProviderCredential? {
        opened.withLock { $0[Self.slot(record)] }
    }

    func store(_ credential: ProviderCredential, for record: ProviderKeyRecord) {
        opened.withLock { $0[Self.slot(record)] = credential }
    }
}
