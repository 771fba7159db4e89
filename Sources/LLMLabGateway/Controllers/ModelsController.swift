import LLMLabStore
import HTTPTypes
import Foundation
import Hummingbird
import LLMLabCore

/// `GET /v1/models` and `GET /v1/models/{id}`: the models the caller's key may use, in
/// OpenAI's list shape: the project's route aliases (`owned_by: "llmlab-route"`), then for
/// each allowed provider it holds a key for, the chat and embedding models the shipped
/// price catalog lists (Azure: the keys' deployment names). `created` is when the route or
/// provider key was added (when the model became usable here).
struct ModelsController: Sendable {
    let resolver: ProviderKeyResolver

    struct Model: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy: String

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }

    struct ModelList: Encodable, Sendable {
        var object = "list"
        var data: [Model]
    }

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.get("models") { _, context in try await self.list(context) }
        routes.get("models/{id}") { _, context in try await self.show(context) }
        return routes
    }

    func models(_ context: GatewayRequestContext) async throws -> [Model] {
        guard let key = context.virtualKey else { throw GatewayError.from(MissingVirtualKey()) }
        let providers = try await resolver.providers(for: key)
        var models: [Model] = []
        var seen = Set<String>()
        func add(_ id: String, created: Date, owner: String) {
            guard seen.insert(id).inserted else { return }
            models.append(Model(id: id, created: Int(created.timeIntervalSince1970), ownedBy: owner))
        }
        for route in providers.routes.sorted(by: { $0.alias < $1.alias }) {
            add(route.alias, created: route.createdAt, owner: "llmlab-route")
        }
        for provider in Provider.allCases {
            let keys = providers.keys.filter { $0.provider == provider }
            guard let first = keys.min(by: { $0.createdAt < $1.createdAt }) else { continue }
            if provider == .azureOpenAI {
                for key in keys where !key.azureDeployment.isEmpty { add(key.azureDeployment, created: key.createdAt, owner: provider.ownerName) }
            } else {
                for model in KnownModels.models(for: provider) { add(model, created: first.createdAt, owner: provider.ownerName) }
            }
        }
        return models
    }

    func list(_ context: GatewayRequestContext) async throws -> Response {
        try json(ModelList(data: try await models(context)))
    }

    func show(_ context: GatewayRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let model = try await models(context).first(where: { $0.id == id }) else {
            throw GatewayError(.notFound, .invalidRequest,
                               "the model '\(id)' does not exist or this key's project has no provider key that serves it",
                               param: "model", code: "model_not_found")
        }
        return try json(model)
    }

    private func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A `/v1` handler ran without ``VirtualKeyMiddleware``: a wiring bug, answered as 500.
struct MissingVirtualKey: Error {}

extension Provider {
    /// The provider's name in messages.
    var displayName: String {
        switch self {
        case .openai: "OpenAI"
        case .azureOpenAI: "Azure OpenAI"
        case .anthropic: "Anthropic"
        case .gemini: "Gemini"
        }
    }

    /// "a" or "an" before ``displayName``.
    var article: String {
        switch self {
        case .openai, .azureOpenAI, .anthropic: "an"
        case .gemini: "a"
        }
    }

    /// `owned_by` in model lists.
    var ownerName: String {
        switch self {
        case .openai: "openai"
        case .azureOpenAI: "azure-openai"
        case .anthropic: "anthropic"
        case .gemini: "google"
        }
    }
}
