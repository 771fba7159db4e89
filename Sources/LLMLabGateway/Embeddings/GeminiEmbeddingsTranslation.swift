import HTTPTypes
import Foundation
import LLMLabCore

/// OpenAI embeddings client → Gemini `models/{model}:batchEmbedContents`.
///
/// Request: each `input` string becomes one `{"model":"models/…","content":{"parts":[{"text"}]}}`
/// request (`dimensions` → `outputDimensionality`); token-id inputs cannot be expressed
/// (400). Response: `embeddings[i].values` → OpenAI's `data[i].embedding`. Gemini's batch
/// embedding answer carries no token counts, so the call is stored unpriced with that
/// reason rather than as a made-up count.
struct GeminiEmbeddingsTranslation: ChatTranslation {
    func translateRequest(_ body: JSONValue, model: String, stream: Bool) throws(GatewayError) -> [UInt8] {
        let texts: [String]
        switch body["input"] {
        case .string(let text)?:
            texts = [text]
        case .array(let items)?:
            var collected: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let text) = item else {
                    throw GatewayError(.badRequest, .invalidRequest,
                                       "Gemini embeddings take text only; send input as a string or an array of strings",
                                       param: "input[\(index)]", code: "invalid_type")
                }
                collected.append(text)
            }
            texts = collected
        default:
            throw GatewayError(.badRequest, .invalidRequest, "input must be a string or an array of strings", param: "input",
                               code: "invalid_type")
        }
        let name = model.hasPrefix("models/") ? model : "models/\(model)"
        var requests: [JSONValue] = []
        for text in texts {
            var request: [String: JSONValue] = ["model": .string(name), "content": ["parts": [["text": .string(text)]]]]
            if let dimensions = body["dimensions"]?.intValue { request["outputDimensionality"] = .int(dimensions) }
            requests.append(.object(request))
        }
        return JSONValue.object(["requests": .array(requests)]).encoded()
    }

    func translateResponse(_ body: [UInt8], requestedModel: String) throws(GatewayError) -> TranslatedResponse {
        guard let value = JSONValue.parse(body), let embeddings = value["embeddings"]?.arrayValue else {
            throw GatewayError.invalidUpstreamResponse("gemini", "no embeddings array")
        }
        var data: [JSONValue] = []
        for (index, embedding) in embeddings.enumerated() {
            guard let values = embedding["values"]?.arrayValue else {
                throw GatewayError.invalidUpstreamResponse("gemini", "embeddings[\(index)] has no values")
            }
            data.append(["object": "embedding", "index": .int(index), "embedding": .array(values)])
        }
        let out: JSONValue = ["object": "list", "data": .array(data), "model": .string(requestedModel),
                              "usage": ["prompt_tokens": 0, "total_tokens": 0]]
        return TranslatedResponse(body: out.encoded(), usage: nil,
                                  usageProblem: "no_usage: Gemini's batchEmbedContents reports no token counts",
                                  responseModel: requestedModel)
    }

    func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        GeminiChatTranslation().translateError(status: status, body: body)
    }

    func makeStreamTranslator(includeUsage: Bool, requestedModel: String) -> any StreamTranslator {
        // Embeddings never stream; a translator is required by the protocol only.
        OpenAIChatStreamPassthrough(relay: ChatStreamRelay(stripUsageChunk: false))
    }
}
