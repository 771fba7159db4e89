import LLMLabStore
import HTTPTypes
import Foundation
import Hummingbird
import LLMLabCore

/// `GET /v1/models` and `GET /v1/models/{id}`: the models the caller's key may use, in
/// OpenAI's list shape. For now: the known OpenAI models when the project holds an OpenAI
/// key. `created` is when that provider key was added (when the model became usable here).
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
        for provider in Provider.allCases {
            guard let record = providers.preferredKey(for: provider) else { continue }
            let created = Int(record.createdAt.timeIntervalSince1970)
            models += KnownModels.models(for: provider).map { Model(id: $0, created: created, ownedBy: provider.ownerName) }
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
