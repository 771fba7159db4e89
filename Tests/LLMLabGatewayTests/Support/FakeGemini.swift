import Foundation
import Hummingbird
import HummingbirdCore
import HTTPTypes
import Logging
import NIOCore
import Synchronization

/// A fake Gemini API (generativelanguage.googleapis.com v1beta) on a real loopback socket,
/// speaking the documented shapes (https://ai.google.dev/api/generate-content):
///
/// - `POST /v1beta/models/{model}:generateContent` → a `GenerateContentResponse`
///   (`candidates[].content.parts`, `finishReason`, `usageMetadata` with
///   `promptTokenCount` including `cachedContentTokenCount`, and `thoughtsTokenCount`,
///   `modelVersion`, `responseId`).
/// - `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` → SSE events
///   `data: {GenerateContentResponse}\r\n\r\n`, each with the cumulative `usageMetadata`,
///   the last with `finishReason`; NO end sentinel (the body just ends).
/// - When the request has `tools`, the answer is a `functionCall` part for the first
///   declared function (`finishReason` STOP, as Gemini reports function calls).
/// - Errors in Google's shape `{"error":{"code","message","status"}}`.
///
/// Behaviour by the model in the path:
/// - `rate-limited`: 429 RESOURCE_EXHAUSTED with `retry-after: 7`
/// - `server-error`: 500 INTERNAL
/// - `overloaded`: 503 UNAVAILABLE
/// - `bad-request`: 400 INVALID_ARGUMENT
/// - `mid-stream-error`: one text chunk, then `data: {"error":{"code":500,…,"status":"INTERNAL"}}`
///   and the body ends normally. Google reports a failure after the 200 head as an error
///   object in the stream (what Google's SDKs look for in every chunk), not by cutting the
///   connection; `broken-stream` covers the dropped connection.
/// - `slow-stream`: one chunk, then silence until the caller goes away (recorded)
/// - `broken-stream`: two chunks, then the connection drops mid-body
/// - anything else: success
///
/// Every request is recorded (path with query, `x-goog-api-key`, body).
final class FakeGemini: Sendable {
    struct Received: Sendable {
        /// The path with its query, e.g. `/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`.
        var path: String
        var model: String
        var method: String
        var apiKey: String?
        var body: [UInt8]
        var json: [String: Any] {
            ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:]
        }
    }

    private struct State {
        var received: [Received] = []
        var lastChunkSentAt: ContinuousClock.Instant?
        var abandonedCalls = 0
        var usageJSON: String?
        var modelVersion: String?
    }

    private let state = Mutex(State())

    static let responseID = "fakeGeminiResponse1"
    static let modelVersion = "gemini-2.5-flash-fake-001"
    static let chunkTexts = ["Hel", "lo", " there", "!"]
    static let chunkInterval: Duration = .milliseconds(120)
    /// Cumulative usage: 12 prompt tokens of which 4 cached, 5 candidates, 2 thoughts.
    static let usageJSON = """
        {"promptTokenCount":12,"candidatesTokenCount":5,"totalTokenCount":19,"cachedContentTokenCount":4,"thoughtsTokenCount":2}
        """

    var received: [Received] { state.withLock { $0.received } }
    var lastChunkSentAt: ContinuousClock.Instant? { state.withLock { $0.lastChunkSentAt } }
    var abandonedCalls: Int { state.withLock { $0.abandonedCalls } }

    /// Replaces the `usageMetadata` object every later answer reports (the final one of a stream).
    func setUsage(_ json: String) { state.withLock { $0.usageJSON = json } }
    /// Replaces the `modelVersion` later answers report (default ``modelVersion``, a name
    /// the price catalog does not know; e.g. `gemini-2.5-flash` to have the call priced).
    func setModelVersion(_ version: String) { state.withLock { $0.modelVersion = version } }

    func buildApplication(onPort: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        // The method rides in the last path component (`{model}:generateContent`), so the
        // route is a catch-all and the component is parsed here.
        router.post("v1beta/models/**") { request, context in
            try await self.generate(request, context: context)
        }
        var logger = Logger(label: "fake-gemini")
        logger.logLevel = .critical
        return Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    private func generate(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = Array(try await request.collectBody(upTo: 16 * 1024 * 1024).readableBytesView)
        let last = context.parameters.getCatchAll().last.map(String.init) ?? ""
        let (rawModel, method) = last.lastIndex(of: ":").map { (String(last[..<$0]), String(last[last.index(after: $0)...])) }
            ?? (last, "")
        let model = rawModel.removingPercentEncoding ?? rawModel
        let query = request.uri.query.map { "?\($0)" } ?? ""
        let received = Received(path: request.uri.path + query, model: model, method: method,
                                apiKey: request.headers[HTTPField.Name("x-goog-api-key")!], body: body)
        state.withLock { $0.received.append(received) }
        switch model {
        case "rate-limited":
            return Self.json(.tooManyRequests, headers: [HTTPField.Name("retry-after")!: "7"], Self.error(
                429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED"))
        case "server-error":
            return Self.json(.internalServerError, Self.error(500, "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting", "INTERNAL"))
        case "overloaded":
            return Self.json(.serviceUnavailable, Self.error(503, "The model is overloaded. Please try again later.", "UNAVAILABLE"))
        case "bad-request":
            return Self.json(.badRequest, Self.error(400, "Invalid JSON payload received. Unknown name \"foo\": Cannot find field.", "INVALID_ARGUMENT"))
        default:
            break
        }
        let (usage, modelVersion) = state.withLock { ($0.usageJSON ?? Self.usageJSON, $0.modelVersion ?? Self.modelVersion) }
        let functionName = Self.firstFunctionName(in: received.json)
        switch method {
        case "generateContent":
            let parts = functionName.map { #"{"functionCall":{"name":"\#($0)","args":{"city":"Paris"}}}"# }
                ?? #"{"text":"Hello there!"}"#
            return Self.json(.ok, """
                {"candidates":[{"content":{"role":"model","parts":[\(parts)]},"finishReason":"STOP","index":0}],\
                "usageMetadata":\(usage),"modelVersion":"\(modelVersion)","responseId":"\(Self.responseID)"}
                """)
        case "streamGenerateContent":
            break
        default:
            return Self.json(.notFound, Self.error(404, "Method not found.", "NOT_FOUND"))
        }
        let events = Self.streamEvents(functionName: functionName, usage: usage, modelVersion: modelVersion)
        let headers: HTTPFields = [.contentType: "text/event-stream"]
        switch model {
        case "slow-stream":
            let requestBody = request.body
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: events[0]))
                do {
                    try await requestBody.consumeWithCancellationOnInboundClose { _ in
                        try await Task.sleep(for: .seconds(30))
                    }
                } catch {
                    self.state.withLock { $0.abandonedCalls += 1 }
                    throw error
                }
                try await writer.finish(nil)
            })
        case "broken-stream":
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: events[0] + events[1]))
                throw ConnectionDropped()  // Hummingbird closes the connection mid-body
            })
        case "mid-stream-error":
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: events[0]))
                try await writer.write(ByteBuffer(string: "data: \(Self.error(500, "An internal error has occurred.", "INTERNAL"))\r\n\r\n"))
                try await writer.finish(nil)
            })
        default:
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                for (index, event) in events.enumerated() {
                    if index > 0 { try await Task.sleep(for: Self.chunkInterval) }
                    try await writer.write(ByteBuffer(string: event))
                }
                self.state.withLock { $0.lastChunkSentAt = .now }
                try await writer.finish(nil)
            })
        }
    }

    /// The stream Gemini sends for "Hello there!" (or one function call when tools were sent):
    /// cumulative usage on every chunk, `finishReason` on the last, no sentinel.
    static func streamEvents(functionName: String?, usage: String = usageJSON, modelVersion: String = modelVersion) -> [String] {
        func event(_ parts: String, finish: Bool, usage: String) -> String {
            let finishReason = finish ? #","finishReason":"STOP""# : ""
            return """
                data: {"candidates":[{"content":{"role":"model","parts":[\(parts)]}\(finishReason),"index":0}],\
                "usageMetadata":\(usage),"modelVersion":"\(modelVersion)","responseId":"\(responseID)"}\r\n\r\n
                """
        }
        let early = #"{"promptTokenCount":12,"totalTokenCount":12,"cachedContentTokenCount":4}"#
        if let functionName {
            return [
                event(#"{"text":"Checking."}"#, finish: false, usage: early),
                event(#"{"functionCall":{"name":"\#(functionName)","args":{"city":"Paris"}}}"#, finish: true, usage: usage),
            ]
        }
        return chunkTexts.enumerated().map { index, text in
            let last = index == chunkTexts.count - 1
            return event(#"{"text":"\#(text)"}"#, finish: last, usage: last ? usage : early)
        }
    }

    static func firstFunctionName(in json: [String: Any]) -> String? {
        guard let tools = json["tools"] as? [[String: Any]] else { return nil }
        for tool in tools {
            if let declarations = tool["functionDeclarations"] as? [[String: Any]],
               let name = declarations.first?["name"] as? String {
                return name
            }
        }
        return nil
    }

    static func error(_ code: Int, _ message: String, _ status: String) -> String {
        #"{"error":{"code":\#(code),"message":"\#(message)","status":"\#(status)"}}"#
    }

    static func json(_ status: HTTPResponse.Status, headers: HTTPFields = [:], _ body: String) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=UTF-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
