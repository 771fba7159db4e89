import AsyncHTTPClient
import Foundation
import HTTPTypes
import LLMLabCore
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing
@testable import LLMLabGateway

/// OpenAI chat completions ↔ Gemini generateContent: every expectation below is written out
/// by hand from the two APIs' documented shapes.
@Suite("GeminiChatTranslation")
struct GeminiChatTranslationTests {
    static let created = 1_750_000_000
    let translation = GeminiChatTranslation(now: { Date(timeIntervalSince1970: TimeInterval(GeminiChatTranslationTests.created)) })

    func request(_ body: JSONValue, stream: Bool = false) throws -> JSONValue {
        try #require(JSONValue.parse(try translation.translateRequest(body, model: "gemini-2.5-flash", stream: stream)))
    }

    func requestError(_ body: JSONValue) -> GatewayError? {
        do {
            _ = try translation.translateRequest(body, model: "gemini-2.5-flash", stream: false)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Path

    @Test func pathPerModelAndMode() {
        #expect(GeminiChatTranslation.path(model: "gemini-2.5-flash", stream: false) == "/models/gemini-2.5-flash:generateContent")
        #expect(GeminiChatTranslation.path(model: "models/gemini-2.5-pro", stream: true) == "/models/gemini-2.5-pro:streamGenerateContent?alt=sse")
        #expect(GeminiChatTranslation.path(model: "tuned/a b:c", stream: false) == "/models/tuned%2Fa%20b%3Ac:generateContent")
    }

    // MARK: Request

    @Test func systemUserAssistantMergedWithoutModelOrStream() throws {
        let body: JSONValue = [
            "model": "gemini-2.5-flash", "stream": true,
            "messages": [
                ["role": "system", "content": "Be brief."],
                ["role": "developer", "content": [["type": "text", "text": "Answer in French."]]],
                ["role": "user", "content": "Hi"],
                ["role": "user", "content": [
                    ["type": "text", "text": "Look"],
                    ["type": "image_url", "image_url": ["url": "data:image/png;base64,iVBORw0KGgo="]],
                ]],
                ["role": "assistant", "content": "Bonjour"],
                ["role": "user", "content": "Bye"],
            ],
        ]
        let expected: JSONValue = [
            "systemInstruction": ["parts": [["text": "Be brief."], ["text": "Answer in French."]]],
            "contents": [
                ["role": "user", "parts": [
                    ["text": "Hi"], ["text": "Look"],
                    ["inlineData": ["mimeType": "image/png", "data": "iVBORw0KGgo="]],
                ]],
                ["role": "model", "parts": [["text": "Bonjour"]]],
                ["role": "user", "parts": [["text": "Bye"]]],
            ],
        ]
        #expect(try request(body, stream: true) == expected)
    }

    @Test func httpImagesBecomeFileData() throws {
        let body: JSONValue = ["messages": [["role": "user", "content": [
            ["type": "image_url", "image_url": ["url": "https://example.com/cat.JPG"]],
            ["type": "image_url", "image_url": ["url": "https://example.com/image?id=7", "detail": "high"]],
        ]]]]
        let expected: JSONValue = [["fileData": ["fileUri": "https://example.com/cat.JPG", "mimeType": "image/jpeg"]],
                                   ["fileData": ["fileUri": "https://example.com/image?id=7"]]]
        #expect(try request(body)["contents"] == [["role": "user", "parts": expected]])
    }

    @Test func toolCallsAndToolResults() throws {
        let body: JSONValue = ["messages": [
            ["role": "user", "content": "Weather and time in Paris?"],
            ["role": "assistant", "content": nil, "tool_calls": [
                ["id": "call_a", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\"}"]],
                ["id": "call_b", "type": "function", "function": ["name": "get_time", "arguments": ""]],
            ]],
            ["role": "tool", "tool_call_id": "call_a", "content": "{\"temp\":21}"],
            ["role": "tool", "tool_call_id": "call_b", "content": [["type": "text", "text": "noon"]]],
        ]]
        let expected: JSONValue = [
            ["role": "user", "parts": [["text": "Weather and time in Paris?"]]],
            ["role": "model", "parts": [
                ["functionCall": ["name": "get_weather", "args": ["city": "Paris"]]],
                ["functionCall": ["name": "get_time", "args": [:]]],
            ]],
            ["role": "user", "parts": [
                ["functionResponse": ["name": "get_weather", "response": ["content": ["temp": 21]]]],
                ["functionResponse": ["name": "get_time", "response": ["content": "noon"]]],
            ]],
        ]
        #expect(try request(body)["contents"] == expected)
    }

    @Test func toolsStrippedToGeminiSchemaAndToolChoiceNamed() throws {
        let body: JSONValue = [
            "messages": [["role": "user", "content": "Hi"]],
            "tools": [
                ["type": "function", "function": [
                    "name": "get_weather", "description": "Current weather", "strict": true,
                    "parameters": [
                        "$schema": "http://json-schema.org/draft-07/schema#",
                        "type": "object",
                        "properties": [
                            "city": ["type": "string"],
                            "strict": ["type": "object", "properties": ["x": ["type": "integer"]], "additionalProperties": false],
                        ],
                        "required": ["city"],
                        "additionalProperties": false,
                    ],
                ]],
                ["type": "function", "function": ["name": "now", "parameters": ["type": "object", "properties": [:]]]],
            ],
            "tool_choice": ["type": "function", "function": ["name": "get_weather"]],
        ]
        let json = try request(body)
        let expectedTools: JSONValue = [["functionDeclarations": [
            ["name": "get_weather", "description": "Current weather", "parameters": [
                "type": "object",
                "properties": ["city": ["type": "string"], "strict": ["type": "object", "properties": ["x": ["type": "integer"]]]],
                "required": ["city"],
            ]],
            ["name": "now"],
        ]]]
        #expect(json["tools"] == expectedTools)
        #expect(json["toolConfig"] == ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": ["get_weather"]]])
    }

    @Test(arguments: [("auto", "AUTO"), ("none", "NONE"), ("required", "ANY")])
    func toolChoiceModes(choice: String, mode: String) throws {
        let body: JSONValue = ["messages": [["role": "user", "content": "Hi"]], "tool_choice": .string(choice)]
        #expect(try request(body)["toolConfig"] == ["functionCallingConfig": ["mode": .string(mode)]])
    }

    @Test func generationConfig() throws {
        let body: JSONValue = [
            "messages": [["role": "user", "content": "Hi"]],
            "temperature": 0.5, "top_p": 0.9, "max_tokens": 100, "max_completion_tokens": 200,
            "stop": "END", "n": 2, "seed": 42, "presence_penalty": 0.1, "frequency_penalty": 0.2,
            "response_format": ["type": "json_schema", "json_schema": [
                "name": "answer", "strict": true,
                "schema": ["type": "object", "properties": ["a": ["type": "string"]], "additionalProperties": false],
            ]],
            "reasoning_effort": "medium",
            "stream_options": ["include_usage": true], "user": "u-1",
        ]
        let expected: JSONValue = [
            "temperature": 0.5, "topP": 0.9, "maxOutputTokens": 200, "stopSequences": ["END"], "candidateCount": 2,
            "seed": 42, "presencePenalty": 0.1, "frequencyPenalty": 0.2,
            "responseMimeType": "application/json",
            "responseSchema": ["type": "object", "properties": ["a": ["type": "string"]]],
            "thinkingConfig": ["thinkingBudget": 8192],
        ]
        let json = try request(body)
        #expect(json["generationConfig"] == expected)
        #expect(json["model"] == nil && json["stream"] == nil && json["user"] == nil)
    }

    @Test func maxTokensStopArrayAndJSONObject() throws {
        let body: JSONValue = [
            "messages": [["role": "user", "content": "Hi"]],
            "max_tokens": 64, "stop": ["a", "b"], "response_format": ["type": "json_object"],
        ]
        #expect(try request(body)["generationConfig"] == ["maxOutputTokens": 64, "stopSequences": ["a", "b"], "responseMimeType": "application/json"])
    }

    @Test(arguments: [("none", 0), ("minimal", 1024), ("low", 1024), ("medium", 8192), ("high", 24576)])
    func reasoningEffortBudgets(effort: String, budget: Int) throws {
        let body: JSONValue = ["messages": [["role": "user", "content": "Hi"]], "reasoning_effort": .string(effort)]
        #expect(try request(body)["generationConfig"] == ["thinkingConfig": ["thinkingBudget": .int(budget)]])
    }

    static let badRequests: [(JSONValue, String)] = [
        (["messages": "hi"], "messages"),
        (["messages": [["role": "system", "content": "only a system prompt"]]], "messages"),
        (["messages": [["role": "robot", "content": "Hi"]]], "messages[0].role"),
        (["messages": [["content": "Hi"]]], "messages[0].role"),
        (["messages": [["role": "user", "content": 5]]], "messages[0].content"),
        (["messages": [["role": "user", "content": [["type": "video", "video": "x"]]]]], "messages[0].content[0].type"),
        (["messages": [["role": "user", "content": [["type": "image_url", "image_url": ["url": "ftp://x/y.png"]]]]]],
         "messages[0].content[0].image_url.url"),
        (["messages": [["role": "user", "content": [["type": "image_url", "image_url": ["url": "data:image/png,abc"]]]]]],
         "messages[0].content[0].image_url.url"),
        (["messages": [["role": "user", "content": "Hi"],
                       ["role": "assistant", "tool_calls": [["id": "c1", "type": "function", "function": ["name": "f", "arguments": "{not json"]]]]]],
         "messages[1].tool_calls[0].function.arguments"),
        (["messages": [["role": "user", "content": "Hi"],
                       ["role": "assistant", "tool_calls": [["id": "c1", "type": "function", "function": ["name": "f", "arguments": "[1,2]"]]]]]],
         "messages[1].tool_calls[0].function.arguments"),
        (["messages": [["role": "user", "content": "Hi"], ["role": "tool", "tool_call_id": "nope", "content": "x"]]], "messages[1].tool_call_id"),
        (["messages": [["role": "user", "content": "Hi"]], "temperature": "hot"], "temperature"),
        (["messages": [["role": "user", "content": "Hi"]], "max_tokens": 1.5], "max_tokens"),
        (["messages": [["role": "user", "content": "Hi"]], "stop": 5], "stop"),
        (["messages": [["role": "user", "content": "Hi"]], "tools": [["type": "web_search"]]], "tools[0].type"),
        (["messages": [["role": "user", "content": "Hi"]], "tools": [["type": "function", "function": ["description": "x"]]]], "tools[0].function.name"),
        (["messages": [["role": "user", "content": "Hi"]], "tool_choice": "sometimes"], "tool_choice"),
        (["messages": [["role": "user", "content": "Hi"]], "response_format": ["type": "xml"]], "response_format.type"),
        (["messages": [["role": "user", "content": "Hi"]], "response_format": ["type": "json_schema", "json_schema": ["name": "x"]]],
         "response_format.json_schema.schema"),
        (["messages": [["role": "user", "content": "Hi"]], "reasoning_effort": "max"], "reasoning_effort"),
    ]

    @Test(arguments: badRequests)
    func badShapesNameTheField(body: JSONValue, param: String) throws {
        let error = try #require(requestError(body))
        #expect(error.status == .badRequest)
        #expect(error.kind == .invalidRequest)
        #expect(error.param == param)
        #expect(error.code == "invalid_type" || error.code == "invalid_value")
    }

    // MARK: Response

    func response(_ json: String, model: String = "gemini-2.5-flash") throws -> (JSONValue, TranslatedResponse) {
        let translated = try translation.translateResponse(Array(json.utf8), requestedModel: model)
        return (try #require(JSONValue.parse(translated.body)), translated)
    }

    @Test func textWithThoughtsAndCachedUsage() throws {
        let (body, translated) = try response("""
            {"candidates":[{"content":{"role":"model","parts":[{"text":"Let me think.","thought":true},{"text":"Hello "},{"text":"there!"}]},\
            "finishReason":"STOP","index":0}],\
            "usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":20,"totalTokenCount":150,"cachedContentTokenCount":40,"thoughtsTokenCount":30},\
            "modelVersion":"gemini-2.5-flash-001","responseId":"abc123"}
            """)
        let expected: JSONValue = [
            "id": "chatcmpl-abc123", "object": "chat.completion", "created": .int(Self.created), "model": "gemini-2.5-flash-001",
            "choices": [["index": 0, "message": ["role": "assistant", "content": "Hello there!", "refusal": nil],
                         "logprobs": nil, "finish_reason": "stop"]],
            "usage": ["prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150,
                      "prompt_tokens_details": ["cached_tokens": 40], "completion_tokens_details": ["reasoning_tokens": 30]],
        ]
        #expect(body == expected)
        // uncached = 100 prompt − 40 cached; output = 20 candidates; reasoning = 30 thoughts.
        #expect(translated.usage == TokenUsage(uncachedInput: 60, cacheRead: 40, output: 20, reasoning: 30))
        #expect(translated.usageProblem == nil)
        #expect(translated.responseModel == "gemini-2.5-flash-001")
    }

    @Test func functionCallsBecomeToolCalls() throws {
        let (body, _) = try response("""
            {"candidates":[{"content":{"role":"model","parts":[\
            {"functionCall":{"name":"get_weather","args":{"unit":"c","city":"Paris"}}},{"functionCall":{"name":"get_time"}}]},\
            "finishReason":"STOP","index":0}],"responseId":"r2"}
            """)
        let expected: JSONValue = [
            "id": "chatcmpl-r2", "object": "chat.completion", "created": .int(Self.created), "model": "gemini-2.5-flash",
            "choices": [["index": 0, "logprobs": nil, "finish_reason": "tool_calls",
                         "message": ["role": "assistant", "content": nil, "refusal": nil, "tool_calls": [
                            ["id": "call_0", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"c\"}"]],
                            ["id": "call_1", "type": "function", "function": ["name": "get_time", "arguments": "{}"]],
                         ]]]],
        ]
        #expect(body == expected)
    }

    /// Gemini 3 signs function calls; the signature rides in the tool call id (as base64url)
    /// and goes back on the same functionCall part in the next request.
    @Test func thoughtSignaturesRoundTripThroughToolCallIDs() throws {
        let (body, _) = try response("""
            {"candidates":[{"content":{"role":"model","parts":[\
            {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"CiQB+/x9Zz=="},\
            {"functionCall":{"name":"get_time","args":{}}}]},"finishReason":"STOP","index":0}],"responseId":"r3"}
            """)
        let calls = try #require(body["choices"]?.arrayValue?.first?["message"]?["tool_calls"]?.arrayValue)
        #expect(calls.map { $0["id"] } == ["call_0__thought__CiQB-_x9Zz", "call_1"])

        let next = try request([
            "model": "gemini-3-pro-preview",
            "messages": [
                ["role": "user", "content": "Weather and time in Paris?"],
                ["role": "assistant", "content": nil, "tool_calls": .array(calls)],
                ["role": "tool", "tool_call_id": "call_0__thought__CiQB-_x9Zz", "content": "18°C"],
                ["role": "tool", "tool_call_id": "call_1", "content": "12:00"],
            ],
        ])
        let parts = try #require(next["contents"]?.arrayValue?[1]["parts"]?.arrayValue)
        #expect(parts == [
            ["functionCall": ["name": "get_weather", "args": ["city": "Paris"]], "thoughtSignature": "CiQB-_x9Zz"],
            ["functionCall": ["name": "get_time", "args": [:]]],
        ])
        #expect(GeminiThoughtSignature.signature(inToolCallID: "call_0__thought__bad+/") == nil)
    }

    @Test(arguments: [("MAX_TOKENS", "length"), ("SAFETY", "content_filter"), ("RECITATION", "content_filter"),
                      ("BLOCKLIST", "content_filter"), ("PROHIBITED_CONTENT", "content_filter"), ("SPII", "content_filter"),
                      ("STOP", "stop"), ("OTHER", "stop"), ("MALFORMED_FUNCTION_CALL", "stop")])
    func finishReasons(gemini: String, openAI: String) throws {
        let (body, _) = try response("""
            {"candidates":[{"content":{"role":"model","parts":[{"text":"x"}]},"finishReason":"\(gemini)","index":0}]}
            """)
        #expect(body["choices"]?.arrayValue?.first?["finish_reason"] == .string(openAI))
    }

    @Test func blockedPromptIsAContentFilterChoice() throws {
        let (body, translated) = try response("""
            {"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}
            """, model: "gemini-2.5-pro")
        #expect(body["choices"] == [["index": 0, "message": ["role": "assistant", "content": nil, "refusal": nil],
                                     "logprobs": nil, "finish_reason": "content_filter"]])
        #expect(body["model"] == "gemini-2.5-pro")
        #expect(body["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
        #expect(body["usage"]?["prompt_tokens"] == 8 && body["usage"]?["completion_tokens"] == 0)
        #expect(translated.usage == TokenUsage(uncachedInput: 8))
        #expect(translated.responseModel == "")
    }

    @Test func toolUsePromptTokensCountAsPrompt() throws {
        let (body, translated) = try response("""
            {"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],\
            "usageMetadata":{"promptTokenCount":10,"toolUsePromptTokenCount":5,"candidatesTokenCount":2,"totalTokenCount":17}}
            """)
        #expect(body["usage"] == ["prompt_tokens": 15, "completion_tokens": 2, "total_tokens": 17,
                                  "prompt_tokens_details": ["cached_tokens": 0], "completion_tokens_details": ["reasoning_tokens": 0]])
        #expect(translated.usage == TokenUsage(uncachedInput: 15, output: 2))
    }

    @Test func inconsistentUsageIsAProblemNotAFailure() throws {
        let (_, translated) = try response("""
            {"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],\
            "usageMetadata":{"promptTokenCount":3,"cachedContentTokenCount":9}}
            """)
        #expect(translated.usage == nil)
        #expect(translated.usageProblem?.contains("cachedContentTokenCount") == true)
    }

    @Test(arguments: ["not json", "[1,2]", #"{"candidates":"x"}"#, #"{"usageMetadata":{}}"#])
    func unreadableResponses(body: String) {
        #expect {
            _ = try translation.translateResponse(Array(body.utf8), requestedModel: "m")
        } throws: { error in
            let error = error as? GatewayError
            return error?.status == .badGateway && error?.code == "upstream_invalid_response"
        }
    }

    // MARK: Errors

    func error(_ status: Int, _ body: String) throws -> JSONValue {
        try #require(JSONValue.parse(translation.translateError(status: status, body: Array(body.utf8)))?["error"])
    }

    @Test(arguments: [
        (400, "INVALID_ARGUMENT", "invalid_request_error"), (400, "FAILED_PRECONDITION", "invalid_request_error"),
        (401, "UNAUTHENTICATED", "authentication_error"), (403, "PERMISSION_DENIED", "permission_error"),
        (404, "NOT_FOUND", "not_found_error"), (429, "RESOURCE_EXHAUSTED", "rate_limit_error"),
        (500, "INTERNAL", "api_error"), (503, "UNAVAILABLE", "api_error"),
    ])
    func googleErrorsInOpenAIShape(status: Int, googleStatus: String, type: String) throws {
        let translated = try error(status, #"{"error":{"code":\#(status),"message":"Something \"went\" wrong.","status":"\#(googleStatus)"}}"#)
        #expect(translated == ["message": "Something \"went\" wrong.", "type": .string(type), "param": nil,
                               "code": .string(googleStatus.lowercased())])
    }

    @Test func invalidAPIKeyIsAnAuthenticationError() throws {
        let translated = try error(400, """
            {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",\
            "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}
            """)
        #expect(translated["type"] == "authentication_error")
        #expect(translated["message"] == "API key not valid. Please pass a valid API key.")
    }

    @Test func arrayWrappedAndNonJSONErrors() throws {
        let wrapped = try error(429, #"[{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}]"#)
        #expect(wrapped["type"] == "rate_limit_error" && wrapped["message"] == "Quota exceeded.")
        let html = try error(502, "<html><body>Bad Gateway</body></html>")
        #expect(html["type"] == "api_error")
        #expect(html["param"] == .null && html["code"] == .null)
        #expect(html["message"]?.stringValue?.contains("HTTP 502") == true)
        let empty = try error(503, "")
        #expect(empty["type"] == "api_error")
        let unauthorized = try error(401, "nope")
        #expect(unauthorized["type"] == "authentication_error")
    }
}

/// The stream: Gemini SSE events in, OpenAI chunk events out.
@Suite("GeminiChatStreamTranslator")
struct GeminiChatStreamTranslatorTests {
    static let created = 1_750_000_000
    let translation = GeminiChatTranslation(now: { Date(timeIntervalSince1970: TimeInterval(GeminiChatStreamTranslatorTests.created)) })

    static func event(_ json: String) -> String { "data: \(json)\r\n\r\n" }

    static let textStream = [
        event(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"usageMetadata":{"promptTokenCount":12,"totalTokenCount":12,"cachedContentTokenCount":4},"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#),
        event(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Planning…","thought":true}]},"index":0}],"usageMetadata":{"promptTokenCount":12,"totalTokenCount":17,"cachedContentTokenCount":4,"thoughtsTokenCount":5},"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#),
        event(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"lo \"you\"!"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":3,"totalTokenCount":20,"cachedContentTokenCount":4,"thoughtsTokenCount":5},"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#),
    ].joined()

    /// Feeds `stream` in pieces of `pieceSize` bytes (all at once when `nil`).
    func run(_ stream: String, pieceSize: Int?, includeUsage: Bool = false)
        throws -> (beforeFinish: [UInt8], afterFinish: [UInt8], translator: any StreamTranslator)
    {
        var translator = translation.makeStreamTranslator(includeUsage: includeUsage, requestedModel: "gemini-2.5-flash")
        let bytes = Array(stream.utf8)
        var out: [UInt8] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + (pieceSize ?? bytes.count))
            out += try translator.consume(bytes[start..<end])
            start = end
        }
        let completeBeforeFinish = translator.isComplete
        #expect(!completeBeforeFinish)
        let tail = translator.finish()
        return (out, tail, translator)
    }

    /// The `data:` payloads of OpenAI events, each ending with a blank line.
    func payloads(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.isEmpty || text.hasSuffix("\n\n"))
        return text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            #expect(event.hasPrefix("data: "))
            return String(event.dropFirst("data: ".count))
        }
    }

    func chunks(_ bytes: [UInt8]) throws -> [JSONValue] {
        try payloads(bytes).map { try #require(JSONValue.parse(Array($0.utf8))) }
    }

    func chunk(_ delta: JSONValue, finish: JSONValue = nil, usageNull: Bool = false) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": "chatcmpl-resp1", "object": "chat.completion.chunk", "created": .int(Self.created),
            "model": "gemini-2.5-flash-001",
            "choices": [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish]],
        ]
        if usageNull { object["usage"] = .null }
        return .object(object)
    }

    @Test(arguments: [1, 7, nil])
    func textStreamInPieces(pieceSize: Int?) throws {
        let (body, tail, translator) = try run(Self.textStream, pieceSize: pieceSize)
        #expect(try chunks(body) == [
            chunk(["role": "assistant", "content": "Hel"]),
            chunk(["content": "lo \"you\"!"]),
            chunk([:], finish: "stop"),
        ])
        #expect(payloads(tail) == ["[DONE]"])
        #expect(translator.isComplete)
        // 12 prompt of which 4 cached; 3 candidates; 5 thoughts.
        #expect(translator.usage == TokenUsage(uncachedInput: 8, cacheRead: 4, output: 3, reasoning: 5))
        #expect(translator.usageProblem == nil)
        #expect(translator.responseModel == "gemini-2.5-flash-001")
        #expect(translator.streamError == nil)
    }

    @Test(arguments: [1, 7, nil])
    func usageChunkOnlyWithIncludeUsage(pieceSize: Int?) throws {
        let (body, tail, translator) = try run(Self.textStream, pieceSize: pieceSize, includeUsage: true)
        #expect(try chunks(body) == [
            chunk(["role": "assistant", "content": "Hel"], usageNull: true),
            chunk(["content": "lo \"you\"!"], usageNull: true),
            chunk([:], finish: "stop", usageNull: true),
        ])
        let tailPayloads = payloads(tail)
        #expect(tailPayloads.count == 2)
        #expect(JSONValue.parse(Array(tailPayloads[0].utf8)) == [
            "id": "chatcmpl-resp1", "object": "chat.completion.chunk", "created": .int(Self.created),
            "model": "gemini-2.5-flash-001", "choices": [],
            "usage": ["prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20,
                      "prompt_tokens_details": ["cached_tokens": 4], "completion_tokens_details": ["reasoning_tokens": 5]],
        ])
        #expect(tailPayloads.last == "[DONE]")
        #expect(translator.isComplete)
    }

    @Test func functionCallStream() throws {
        let stream = [
            Self.event(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking."}]},"index":0}],"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#),
            Self.event(#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln/w=="},{"functionCall":{"name":"get_time","args":{}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":30,"candidatesTokenCount":9,"totalTokenCount":39},"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#),
        ].joined()
        for pieceSize in [1, 7, nil] as [Int?] {
            let (body, tail, translator) = try run(stream, pieceSize: pieceSize)
            #expect(try chunks(body) == [
                chunk(["role": "assistant", "content": "Checking."]),
                chunk(["tool_calls": [
                    ["index": 0, "id": "call_0__thought__c2ln_w", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\"}"]],
                    ["index": 1, "id": "call_1", "type": "function", "function": ["name": "get_time", "arguments": "{}"]],
                ]]),
                chunk([:], finish: "tool_calls"),
            ])
            #expect(payloads(tail) == ["[DONE]"])
            #expect(translator.usage == TokenUsage(uncachedInput: 30, output: 9))
        }
    }

    @Test func noFinishReasonMeansNoDone() throws {
        let stream = Self.event(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#)
        let (body, tail, translator) = try run(stream, pieceSize: nil, includeUsage: true)
        #expect(try chunks(body) == [chunk(["role": "assistant", "content": "Hel"], usageNull: true)])
        #expect(tail.isEmpty)
        #expect(!translator.isComplete)
    }

    @Test func finishReasonWithoutBodyEndIsNotComplete() throws {
        var translator = translation.makeStreamTranslator(includeUsage: false, requestedModel: "gemini-2.5-flash")
        let out = try translator.consume(Array(Self.textStream.utf8))
        #expect(!payloads(out).contains("[DONE]"))
        #expect(!translator.isComplete)
    }

    @Test func errorPayloadMidStream() throws {
        let stream = Self.event(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#)
            + Self.event(#"{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}"#)
        for pieceSize in [1, 7, nil] as [Int?] {
            let (body, tail, translator) = try run(stream, pieceSize: pieceSize)
            let events = try chunks(body)
            #expect(events == [
                chunk(["role": "assistant", "content": "Hel"]),
                ["error": ["message": "An internal error has occurred.", "type": "api_error", "param": nil, "code": "internal"]],
            ])
            #expect(tail.isEmpty)
            #expect(translator.streamError == .serverError)
            #expect(!translator.isComplete)
        }
    }

    @Test func rateLimitErrorInStream() throws {
        let stream = Self.event(#"{"error":{"code":429,"message":"Quota exceeded.","status":"RESOURCE_EXHAUSTED"}}"#)
        let (body, _, translator) = try run(stream, pieceSize: nil)
        #expect(try chunks(body) == [["error": ["message": "Quota exceeded.", "type": "rate_limit_error", "param": nil, "code": "resource_exhausted"]]])
        #expect(translator.streamError == .rateLimited)
    }

    @Test func blockedPromptInStream() throws {
        let stream = Self.event(#"{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7},"modelVersion":"gemini-2.5-flash-001","responseId":"resp1"}"#)
        let (body, tail, translator) = try run(stream, pieceSize: 7)
        #expect(try chunks(body) == [chunk(["role": "assistant"], finish: "content_filter")])
        #expect(payloads(tail) == ["[DONE]"])
        #expect(translator.usage == TokenUsage(uncachedInput: 7))
    }

    @Test func maxTokensAndRequestedModelFallback() throws {
        let stream = Self.event(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]},"finishReason":"MAX_TOKENS","index":0}],"responseId":"resp1"}"#)
        let (body, _, translator) = try run(stream, pieceSize: nil)
        let events = try chunks(body)
        #expect(events.count == 2)
        #expect(events.allSatisfy { $0["model"] == "gemini-2.5-flash" })
        #expect(events.last?["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(translator.responseModel == "")
    }

    @Test func tooLargeEventThrows() {
        var translator = GeminiChatStreamTranslator(includeUsage: false, requestedModel: "m", created: 0)
        #expect(throws: SSEEventFramer.EventTooLarge.self) {
            _ = try translator.consume(Array(repeating: UInt8(ascii: "a"), count: 8 * 1024 * 1024 + 1))
        }
    }
}

/// The translation against ``FakeGemini`` over a real socket: the fake's routes and shapes
/// are what the translation expects.
@Suite("GeminiChat against FakeGemini")
struct GeminiChatFakeServerTests {
    let translation = GeminiChatTranslation()

    func withFake(_ body: @Sendable (FakeGemini, String, HTTPClient) async throws -> Void) async throws {
        let fake = FakeGemini()
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let (ports, port) = AsyncStream<Int>.makeStream()
                group.addTask { try await fake.buildApplication(onPort: { port.yield($0) }).run() }
                let upstreamPort = try #require(await ports.first(where: { _ in true }))
                try await body(fake, "http://127.0.0.1:\(upstreamPort)/v1beta", client)
                group.cancelAll()
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    func send(_ client: HTTPClient, _ base: String, model: String, stream: Bool, tools: Bool = false) async throws -> HTTPClientResponse {
        var body: JSONValue = ["model": .string(model), "messages": [["role": "user", "content": "Hi"]]]
        if tools, case .object(var members) = body {
            members["tools"] = [["type": "function", "function": ["name": "get_weather", "parameters": ["type": "object", "properties": ["city": ["type": "string"]]]]]]
            body = .object(members)
        }
        var request = HTTPClientRequest(url: base + GeminiChatTranslation.path(model: model, stream: stream))
        request.method = .POST
        request.headers.add(name: "x-goog-api-key", value: "test-key")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try translation.translateRequest(body, model: model, stream: stream)))
        return try await client.execute(request, timeout: .seconds(10))
    }

    func stream(_ response: HTTPClientResponse, includeUsage: Bool = false) async -> (text: String, translator: any StreamTranslator) {
        var translator = translation.makeStreamTranslator(includeUsage: includeUsage, requestedModel: "m")
        var out: [UInt8] = []
        do {
            for try await buffer in response.body {
                out += try translator.consume(buffer.readableBytesView)
            }
            out += translator.finish()
        } catch {
            // A dropped connection: the proxy reports the break; nothing is invented.
        }
        return (String(decoding: out, as: UTF8.self), translator)
    }

    @Test func completion() async throws {
        try await withFake { fake, base, client in
            let response = try await send(client, base, model: "gemini-2.5-flash", stream: false)
            #expect(response.status == .ok)
            let bytes = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            let translated = try translation.translateResponse(bytes, requestedModel: "gemini-2.5-flash")
            let json = try #require(JSONValue.parse(translated.body))
            #expect(json["choices"]?.arrayValue?.first?["message"]?["content"] == "Hello there!")
            #expect(json["id"] == "chatcmpl-fakeGeminiResponse1")
            // FakeGemini's usage: 12 prompt (4 cached), 5 candidates, 2 thoughts.
            #expect(translated.usage == TokenUsage(uncachedInput: 8, cacheRead: 4, output: 5, reasoning: 2))
            let received = try #require(fake.received.last)
            #expect(received.path == "/v1beta/models/gemini-2.5-flash:generateContent")
            #expect(received.model == "gemini-2.5-flash" && received.method == "generateContent")
            #expect(received.apiKey == "test-key")
            #expect(received.json["contents"] != nil && received.json["model"] == nil)
        }
    }

    @Test func streamedText() async throws {
        try await withFake { fake, base, client in
            let response = try await send(client, base, model: "gemini-2.5-flash", stream: true)
            let (text, translator) = await stream(response, includeUsage: true)
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            #expect(text.contains(#""finish_reason":"stop""#))
            #expect(translator.isComplete)
            #expect(translator.usage == TokenUsage(uncachedInput: 8, cacheRead: 4, output: 5, reasoning: 2))
            #expect(fake.received.last?.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        }
    }

    @Test func streamedFunctionCall() async throws {
        try await withFake { _, base, client in
            let response = try await send(client, base, model: "gemini-2.5-flash", stream: true, tools: true)
            let (text, translator) = await stream(response)
            #expect(text.contains(#""name":"get_weather""#))
            #expect(text.contains(#""finish_reason":"tool_calls""#))
            #expect(translator.isComplete)
        }
    }

    @Test(arguments: [("rate-limited", 429, "rate_limit_error"), ("server-error", 500, "api_error"),
                      ("overloaded", 503, "api_error"), ("bad-request", 400, "invalid_request_error")])
    func errors(model: String, status: Int, type: String) async throws {
        try await withFake { _, base, client in
            let response = try await send(client, base, model: model, stream: false)
            #expect(Int(response.status.code) == status)
            if status == 429 { #expect(response.headers.first(name: "retry-after") == "7") }
            let bytes = Array(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            let error = JSONValue.parse(translation.translateError(status: status, body: bytes))?["error"]
            #expect(error?["type"] == .string(type))
        }
    }

    @Test func midStreamError() async throws {
        try await withFake { _, base, client in
            let response = try await send(client, base, model: "mid-stream-error", stream: true)
            let (text, translator) = await stream(response)
            #expect(text.contains(#""type":"api_error""#))
            #expect(!text.contains("[DONE]"))
            #expect(translator.streamError == .serverError)
            #expect(!translator.isComplete)
        }
    }

    @Test func brokenStream() async throws {
        try await withFake { _, base, client in
            let response = try await send(client, base, model: "broken-stream", stream: true)
            let (text, translator) = await stream(response)
            #expect(!text.contains("[DONE]"))
            #expect(!translator.isComplete)
        }
    }
}
