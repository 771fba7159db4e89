import AsyncHTTPClient
import Foundation
import LLMLabCore
import NIOCore
import NIOHTTP1
import HTTPTypes

/// The provider API a proxy call reaches: which URL, which authentication header, for one
/// upstream target. Bodies come from the call's ``ChatTranslation``.
enum ProviderEndpoint {
    /// The operation, whatever the client's API: a chat-like generation or embeddings.
    enum Operation: Sendable {
        case generate
        case embed
    }

    /// Anthropic's API version header, sent unless the client chose one (`/v1/messages`).
    static let anthropicVersion = "2023-06-01"

    /// The HTTP request for one attempt.
    static func request(
        for target: UpstreamTarget, operation: Operation, stream: Bool, body: [UInt8], baseURLs: ProviderBaseURLs,
        requestID: String, passHeaders: [(String, String)] = []
    ) throws(GatewayError) -> HTTPClientRequest {
        let credential = target.credential
        var request = HTTPClientRequest(url: try url(for: target, operation: operation, stream: stream, baseURLs: baseURLs))
        request.method = .POST
        switch credential.provider {
        case .openai:
            request.headers.add(name: "authorization", value: "Bearer \(credential.secret)")
        case .azureOpenAI:
            request.headers.add(name: "api-key", value: credential.secret)
        case .anthropic:
            request.headers.add(name: "x-api-key", value: credential.secret)
            if !passHeaders.contains(where: { $0.0 == "anthropic-version" }) {
                request.headers.add(name: "anthropic-version", value: anthropicVersion)
            }
        case .gemini:
            request.headers.add(name: "x-goog-api-key", value: credential.secret)
        }
        for (name, value) in passHeaders { request.headers.add(name: name, value: value) }
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: stream ? "text/event-stream" : "application/json")
        request.headers.add(name: "user-agent", value: "llmlab-gateway")
        request.headers.add(name: "x-llmlab-request-id", value: requestID)
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// The URL for one attempt.
    static func url(for target: UpstreamTarget, operation: Operation, stream: Bool, baseURLs: ProviderBaseURLs) throws(GatewayError) -> String {
        let credential = target.credential
        switch credential.provider {
        case .openai:
            return ProviderBaseURLs.normalized(baseURLs.openAI) + (operation == .embed ? "/embeddings" : "/chat/completions")
        case .azureOpenAI:
            return try azureURL(credential, deployment: target.model, operation: operation)
        case .anthropic:
            guard operation == .generate else {
                throw GatewayError(.badRequest, .invalidRequest, "Anthropic has no embeddings API; route this model to an OpenAI, Azure OpenAI or Gemini embedding model",
                                   param: "model", code: "unsupported_operation")
            }
            return ProviderBaseURLs.normalized(baseURLs.anthropic) + "/messages"
        case .gemini:
            let base = ProviderBaseURLs.normalized(baseURLs.gemini)
            switch operation {
            case .generate: return base + GeminiChatTranslation.path(model: target.model, stream: stream)
            case .embed: return base + geminiModelPath(target.model) + ":batchEmbedContents"
            }
        }
    }

    /// `/models/{model}` with the model percent-encoded as one path segment (a leading
    /// `models/` in the name is dropped).
    static func geminiModelPath(_ model: String) -> String {
        let name = model.hasPrefix("models/") ? String(model.dropFirst("models/".count)) : model
        return "/models/" + (name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/:"))) ?? name)
    }

    /// Azure OpenAI: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`,
    /// or the v1 API `{endpoint}/openai/v1/chat/completions` (deployment in the body's
    /// `model`) when the key's API version is `v1`, `latest` or `preview`, or its endpoint
    /// already ends in `/openai/v1`.
    static func azureURL(_ credential: ProviderCredential, deployment: String, operation: Operation) throws(GatewayError) -> String {
        var endpoint = ProviderBaseURLs.normalized(credential.azureEndpoint)
        guard endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://") else {
            throw GatewayError(.internalServerError, .api,
                               "the Azure OpenAI key '\(credential.name)' has no usable endpoint; store it again with 'llmlab-admin key put --provider azure_openai --azure-endpoint https://<resource>.openai.azure.com …'",
                               code: "provider_key_misconfigured")
        }
        let leaf = operation == .embed ? "embeddings" : "chat/completions"
        let version = credential.azureAPIVersion.lowercased()
        if endpoint.hasSuffix("/openai/v1") || ["v1", "latest", "preview"].contains(version) {
            if !endpoint.hasSuffix("/openai/v1") { endpoint += "/openai/v1" }
            return "\(endpoint)/\(leaf)" + (version == "preview" ? "?api-version=preview" : "")
        }
        if endpoint.hasSuffix("/openai") { endpoint.removeLast("/openai".count) }
        let name = deployment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? deployment
        let apiVersion = credential.azureAPIVersion.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? credential.azureAPIVersion
        return "\(endpoint)/openai/deployments/\(name)/\(leaf)?api-version=\(apiVersion)"
    }
}
