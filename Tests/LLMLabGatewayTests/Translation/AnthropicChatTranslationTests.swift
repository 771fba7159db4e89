import Foundation
import HTTPTypes
import LLMLabCore
import Testing
@testable import LLMLabGateway

/// OpenAI Chat Completions ↔ Anthropic Messages: every expectation is written out by hand
/// from the two APIs' documented shapes.
@Suite("AnthropicChatTranslation")
struct AnthropicChatTranslationTests {
    static let fixedNow = Date(timeIntervalSince1970: 1_700_000_000)
    let translation = AnthropicChatTranslation(now: { AnthropicChatTranslationTests.fixedNow })

    // MARK: Helpers

    func request(_ body: JSONValue, model: String = "claude-sonnet-4-5", stream: Bool = false) throws -> JSONValue {
        let bytes = try translation.translateRequest(body, model: model, stream: stream)
        return try #require(JSONValue.parse(bytes))
    }

    func rejection(_ body: JSONValue) -> GatewayError? {
        do {
            _ = try translation.translateRequest(body, model: "claude-sonnet-4-5", stream: false)
            return nil
        } catch {
            return error
        }
    }

    func chat(_ messages: JSONValue, _ extra: [String: JSONValue] = [:]) -> JSONValue {
        var body: [String: JSONValue] = ["model": "claude-sonnet-4-5", "messages": messages]
        body.merge(extra) { _, new in new }
        return .object(body)
    }

    // MARK: Request

    @Test func basicRequestUsesModelArgumentDefaultMaxTokensAndOmitsStreamWhenFalse() throws {
        let out = try request(chat([["role": "user", "content": "Hi"]]), model: "claude-haiku-4-5")
        #expect(out == [
            "model": "claude-haiku-4-5",
            "max_tokens": 4096,
            "messages": [["role": "user", "content": "Hi"]],
        ])
    }

    @Test func streamTrueIsSent() throws {
        let out = try request(chat([["role": "user", "content": "Hi"]]), stream: true)
        #expect(out["stream"] == true)
    }

    @Test func maxCompletionTokensWinsOverMaxTokens() throws {
        let both = try request(chat([["role": "user", "content": "Hi"]], ["max_completion_tokens": 300, "max_tokens": 100]))
        #expect(both["max_tokens"] == 300)
        let legacy = try request(chat([["role": "user", "content": "Hi"]], ["max_tokens": 100]))
        #expect(legacy["max_tokens"] == 100)
        let error = rejection(chat([["role": "user", "content": "Hi"]], ["max_tokens": "many"]))
        #expect(error?.param == "max_tokens")
        #expect(error?.status.code == 400)
    }

    @Test func systemAndDeveloperMessagesAnywhereBecomeTopLevelSystem() throws {
        let out = try request(chat([
            ["role": "system", "content": "Be brief."],
            ["role": "user", "content": "Hi"],
            ["role": "developer", "content": [["type": "text", "text": "Answer in French."], ["type": "text", "text": "No emoji."]]],
            ["role": "assistant", "content": "Salut"],
        ]))
        #expect(out["system"] == "Be brief.\n\nAnswer in French.\n\nNo emoji.")
        #expect(out["messages"] == [
            ["role": "user", "content": "Hi"],
            ["role": "assistant", "content": "Salut"],
        ])
    }

    @Test func consecutiveSameRoleMessagesAreMergedIntoBlocks() throws {
        let out = try request(chat([
            ["role": "user", "content": "First"],
            ["role": "user", "content": [["type": "text", "text": "Second"]]],
            ["role": "assistant", "content": "A"],
            ["role": "assistant", "content": "B"],
        ]))
        #expect(out["messages"] == [
            ["role": "user", "content": [["type": "text", "text": "First"], ["type": "text", "text": "Second"]]],
            ["role": "assistant", "content": [["type": "text", "text": "A"], ["type": "text", "text": "B"]]],
        ])
    }

    @Test func imagePartsBecomeBase64OrURLImageBlocks() throws {
        let out = try request(chat([[
            "role": "user",
            "content": [
                ["type": "text", "text": "What is in these?"],
                ["type": "image_url", "image_url": ["url": "data:image/png;base64,iVBORw0KGgo="]],
                ["type": "image_url", "image_url": ["url": "https://example.com/cat.jpg", "detail": "high"]],
            ],
        ]]))
        #expect(out["messages"] == [[
            "role": "user",
            "content": [
                ["type": "text", "text": "What is in these?"],
                ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="]],
                ["type": "image", "source": ["type": "url", "url": "https://example.com/cat.jpg"]],
            ],
        ]])
    }

    @Test func badImageURLIsRejectedWithItsPath() throws {
        let error = rejection(chat([["role": "user", "content": [["type": "image_url", "image_url": ["url": "ftp://x/y.png"]]]]]))
        #expect(error?.param == "messages[0].content[0].image_url.url")
        let audio = rejection(chat([["role": "user", "content": [["type": "input_audio", "input_audio": ["data": "AAA", "format": "wav"]]]]]))
        #expect(audio?.param == "messages[0].content[0].type")
    }

    @Test func assistantToolCallsAndToolResultsTranslate() throws {
        let out = try request(chat([
            ["role": "user", "content": "Weather in Paris and Rome?"],
            ["role": "assistant", "content": .null, "tool_calls": [
                ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Paris"}"#]],
                ["id": "call_2", "type": "function", "function": ["name": "get_weather", "arguments": #"{"city":"Rome"}"#]],
            ]],
            ["role": "tool", "tool_call_id": "call_1", "content": "18C"],
            ["role": "tool", "tool_call_id": "call_2", "content": [["type": "text", "text": "21C"]]],
            ["role": "user", "content": "Thanks, and tomorrow?"],
        ]))
        #expect(out["messages"] == [
            ["role": "user", "content": "Weather in Paris and Rome?"],
            ["role": "assistant", "content": [
                ["type": "tool_use", "id": "call_1", "name": "get_weather", "input": ["city": "Paris"]],
                ["type": "tool_use", "id": "call_2", "name": "get_weather", "input": ["city": "Rome"]],
            ]],
            ["role": "user", "content": [
                ["type": "tool_result", "tool_use_id": "call_1", "content": "18C"],
                ["type": "tool_result", "tool_use_id": "call_2", "content": [["type": "text", "text": "21C"]]],
                ["type": "text", "text": "Thanks, and tomorrow?"],
            ]],
        ])
    }

    @Test func assistantTextBeforeToolCallsIsKept() throws {
        let out = try request(chat([
            ["role": "user", "content": "Hi"],
            ["role": "assistant", "content": "Let me look.", "tool_calls": [
                ["id": "call_9", "type": "function", "function": ["name": "lookup", "arguments": ""]],
            ]],
        ]))
        #expect(out["messages"]?.arrayValue?.last == [
            "role": "assistant",
            "content": [
                ["type": "text", "text": "Let me look."],
                ["type": "tool_use", "id": "call_9", "name": "lookup", "input": [:]],
            ],
        ])
    }

    @Test func invalidToolCallArgumentsAreRejectedWithTheirPath() throws {
        let error = rejection(chat([
            ["role": "user", "content": "Hi"],
            ["role": "assistant", "tool_calls": [
                ["id": "call_1", "type": "function", "function": ["name": "f", "arguments": "{}"]],
                ["id": "call_2", "type": "function", "function": ["name": "f", "arguments": "{not json"]],
            ]],
        ]))
        #expect(error?.status.code == 400)
        #expect(error?.kind == .invalidRequest)
        #expect(error?.param == "messages[1].tool_calls[1].function.arguments")
    }

    @Test func toolsAndToolChoiceTranslate() throws {
        let tools: JSONValue = [
            ["type": "function", "function": [
                "name": "get_weather", "description": "Current weather",
                "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]],
            ]],
            ["type": "function", "function": ["name": "now"]],
        ]
        let messages: JSONValue = [["role": "user", "content": "Hi"]]
        let out = try request(chat(messages, ["tools": tools]))
        #expect(out["tools"] == [
            ["name": "get_weather", "description": "Current weather",
             "input_schema": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]],
            ["name": "now", "input_schema": ["type": "object", "properties": [:]]],
        ])
        #expect(out["tool_choice"] == nil)

        let cases: [(JSONValue, JSONValue)] = [
            ("auto", ["type": "auto"]),
            ("required", ["type": "any"]),
            ("none", ["type": "none"]),
            (["type": "function", "function": ["name": "now"]], ["type": "tool", "name": "now"]),
        ]
        for (choice, expected) in cases {
            let translated = try request(chat(messages, ["tools": tools, "tool_choice": choice]))
            #expect(translated["tool_choice"] == expected)
        }
        let serial = try request(chat(messages, ["tools": tools, "parallel_tool_calls": false]))
        #expect(serial["tool_choice"] == ["type": "auto", "disable_parallel_tool_use": true])
        let forcedSerial = try request(chat(messages, ["tools": tools, "tool_choice": "required", "parallel_tool_calls": false]))
        #expect(forcedSerial["tool_choice"] == ["type": "any", "disable_parallel_tool_use": true])
        let parallel = try request(chat(messages, ["tools": tools, "tool_choice": "auto", "parallel_tool_calls": true]))
        #expect(parallel["tool_choice"] == ["type": "auto"])

        let badTool = rejection(chat(messages, ["tools": [["type": "code_interpreter"]]]))
        #expect(badTool?.param == "tools[0].type")
        let badChoice = rejection(chat(messages, ["tools": tools, "tool_choice": "sometimes"]))
        #expect(badChoice?.param == "tool_choice")
    }

    @Test func samplingStopUserPassAndOpenAIOnlyMembersAreDropped() throws {
        let out = try request(chat([["role": "user", "content": "Hi"]], [
            "temperature": 0.5, "top_p": 0.9, "stop": "END", "user": "user-42",
            "seed": 7, "logprobs": true, "presence_penalty": 0.1, "frequency_penalty": 0.2,
            "stream_options": ["include_usage": true], "n": 1, "response_format": ["type": "text"],
        ]))
        #expect(out == [
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "messages": [["role": "user", "content": "Hi"]],
            "temperature": 0.5,
            "top_p": 0.9,
            "stop_sequences": ["END"],
            "metadata": ["user_id": "user-42"],
        ])
        let stops = try request(chat([["role": "user", "content": "Hi"]], ["stop": ["A", "B"]]))
        #expect(stops["stop_sequences"] == ["A", "B"])
        #expect(rejection(chat([["role": "user", "content": "Hi"]], ["stop": 3]))?.param == "stop")
        #expect(rejection(chat([["role": "user", "content": "Hi"]], ["temperature": "hot"]))?.param == "temperature")
    }

    @Test func moreThanOneChoiceIsRejected() throws {
        let error = try #require(rejection(chat([["role": "user", "content": "Hi"]], ["n": 2])))
        #expect(error.status.code == 400)
        #expect(error.param == "n")
        #expect(error.kind == .invalidRequest)
    }

    @Test func responseFormatJSONSchemaBecomesOutputConfigAndJSONObjectIsRejected() throws {
        let schema: JSONValue = ["type": "object", "properties": ["answer": ["type": "string"]], "required": ["answer"], "additionalProperties": false]
        let out = try request(chat([["role": "user", "content": "Hi"]], [
            "response_format": ["type": "json_schema", "json_schema": ["name": "reply", "strict": true, "schema": schema]],
        ]))
        #expect(out["output_config"] == ["format": ["type": "json_schema", "schema": schema]])
        let error = rejection(chat([["role": "user", "content": "Hi"]], ["response_format": ["type": "json_object"]]))
        #expect(error?.param == "response_format.type")
    }

    @Test func badShapesNameTheirPath() throws {
        #expect(rejection(["model": "m", "messages": "Hi"])?.param == "messages")
        #expect(rejection(chat([["role": "wizard", "content": "Hi"]]))?.param == "messages[0].role")
        #expect(rejection(chat([["role": "user", "content": 5]]))?.param == "messages[0].content")
        #expect(rejection(chat([["role": "tool", "content": "x"]]))?.param == "messages[0].tool_call_id")
        let error = try #require(rejection(chat([["role": "system", "content": [["type": "image_url"]]]])))
        #expect(error.param == "messages[0].content[0]")
        #expect(error.code == "invalid_type")
    }

    // MARK: Response

    @Test func textResponseWithCacheUsage() throws {
        let body = #"""
            {"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929",
             "content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"Hello"},{"type":"text","text":" there!"}],
             "stop_reason":"end_turn","stop_sequence":null,
             "usage":{"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":300,"cache_read_input_tokens":4000,
                      "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},"service_tier":"standard"}}
            """#
        let result = try translation.translateResponse(Array(body.utf8), requestedModel: "claude-sonnet-4-5")
        #expect(result.usage == TokenUsage(uncachedInput: 10, cacheRead: 4000, cacheWrite5m: 100, cacheWrite1h: 200, output: 20))
        #expect(result.usageProblem == nil)
        #expect(result.responseModel == "claude-sonnet-4-5-20250929")
        let completion = try #require(JSONValue.parse(result.body))
        // prompt = 10 uncached + 4000 read + 300 written; total = 4310 + 20.
        #expect(completion == [
            "id": "chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "claude-sonnet-4-5-20250929",
            "choices": [[
                "index": 0,
                "message": ["role": "assistant", "content": "Hello there!", "refusal": nil],
                "logprobs": nil,
                "finish_reason": "stop",
            ]],
            "usage": ["prompt_tokens": 4310, "completion_tokens": 20, "total_tokens": 4330,
                      "prompt_tokens_details": ["cached_tokens": 4000]],
        ])
    }

    @Test func toolUseResponseHasToolCallsAndNullContent() throws {
        let body = #"""
            {"id":"msg_tool","type":"message","role":"assistant","model":"claude-sonnet-4-5",
             "content":[{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"location":"San Francisco, CA","unit":"celsius"}}],
             "stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":89}}
            """#
        let result = try translation.translateResponse(Array(body.utf8), requestedModel: "x")
        #expect(result.usage == TokenUsage(uncachedInput: 472, output: 89))
        let completion = try #require(JSONValue.parse(result.body))
        let choice = try #require(completion["choices"]?.arrayValue?.first)
        #expect(choice["finish_reason"] == "tool_calls")
        #expect(choice["message"]?["content"] == .null)
        #expect(choice["message"]?["tool_calls"] == [[
            "id": "toolu_01A09q90qw90lq917835lq9", "type": "function",
            "function": ["name": "get_weather", "arguments": #"{"location":"San Francisco, CA","unit":"celsius"}"#],
        ]])
        #expect(completion["usage"] == ["prompt_tokens": 472, "completion_tokens": 89, "total_tokens": 561,
                                        "prompt_tokens_details": ["cached_tokens": 0]])
    }

    @Test(arguments: [
        ("end_turn", "stop"), ("stop_sequence", "stop"), ("pause_turn", "stop"), ("max_tokens", "length"),
        ("tool_use", "tool_calls"), ("refusal", "content_filter"),
    ])
    func finishReasons(stopReason: String, finishReason: String) throws {
        let body = #"{"id":"m","type":"message","role":"assistant","model":"c","content":[{"type":"text","text":"x"}],"stop_reason":"\#(stopReason)","usage":{"input_tokens":1,"output_tokens":1}}"#
        let result = try translation.translateResponse(Array(body.utf8), requestedModel: "c")
        let completion = try #require(JSONValue.parse(result.body))
        #expect(completion["choices"]?.arrayValue?.first?["finish_reason"] == .string(finishReason))
    }

    @Test func unreadableResponseIsAnUpstreamError() {
        for body in ["<html>oops</html>", #"{"id":"m","type":"message"}"#, "[]"] {
            do {
                _ = try translation.translateResponse(Array(body.utf8), requestedModel: "c")
                Issue.record("expected an error for \(body)")
            } catch {
                #expect(error.status.code == 502)
                #expect(error.code == "upstream_invalid_response")
            }
        }
    }

    @Test func cacheWritesThatDoNotAddUpAreAUsageProblem() throws {
        let body = #"{"id":"m","type":"message","role":"assistant","model":"c","content":[],"stop_reason":"end_turn","usage":{"input_tokens":1,"output_tokens":2,"cache_creation_input_tokens":50,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":10}}}"#
        let result = try translation.translateResponse(Array(body.utf8), requestedModel: "c")
        #expect(result.usage == nil)
        #expect(result.usageProblem?.contains("cache_creation") == true)
        let missing = try translation.translateResponse(Array(#"{"id":"m","model":"c","content":[],"usage":{"input_tokens":"1","output_tokens":2}}"#.utf8), requestedModel: "c")
        #expect(missing.usage == nil)
        #expect(missing.usageProblem == "usage input_tokens is not an integer")
    }

    // MARK: Errors

    @Test(arguments: [
        (400, "invalid_request_error", "messages: roles must alternate", "invalid_request_error", nil as String?),
        (401, "authentication_error", "invalid x-api-key", "authentication_error", "invalid_api_key"),
        (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", "rate_limit_error", "rate_limit_exceeded"),
        (529, "overloaded_error", "Overloaded", "api_error", "overloaded"),
        (500, "api_error", "Internal server error", "api_error", nil),
    ])
    func errorMapping(status: Int, anthropicType: String, message: String, openAIType: String, code: String?) throws {
        let body = #"{"type":"error","error":{"type":"\#(anthropicType)","message":"\#(message)"},"request_id":"req_011CSHoEeqs5C35K2UUqR7Fy"}"#
        let out = try #require(JSONValue.parse(translation.translateError(status: status, body: Array(body.utf8))))
        #expect(out == ["error": ["message": .string(message), "type": .string(openAIType), "param": nil,
                                  "code": code.map(JSONValue.string) ?? nil]])
    }

    @Test func nonJSONErrorStillGivesAnOpenAIError() throws {
        let out = try #require(JSONValue.parse(translation.translateError(status: 502, body: Array("<html>Bad Gateway</html>".utf8))))
        let message = try #require(out["error"]?["message"]?.stringValue)
        #expect(message.contains("502"))
        #expect(out["error"]?["type"] == "api_error")
        #expect(out["error"]?["param"] == .null)
        let empty = try #require(JSONValue.parse(translation.translateError(status: 403, body: [])))
        #expect(empty["error"]?["type"] == "permission_error")
    }

    // MARK: Streaming

    /// The basic streaming example of Anthropic's "Streaming Messages" page.
    static let textStream = """
        event: message_start
        data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5-20250929", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0}}}

        event: content_block_start
        data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

        event: content_block_delta
        data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

        event: content_block_stop
        data: {"type": "content_block_stop", "index": 0}

        event: message_delta
        data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

        event: message_stop
        data: {"type": "message_stop"}


        """

    /// The tool use streaming example of the same page (a text block, then a tool_use block).
    static let toolStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"The user wants weather."}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: content_block_start
        data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Okay, let's check."}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":1}

        event: content_block_start
        data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" \\"San Francisco, CA\\"}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":2}

        event: content_block_start
        data: {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_02","name":"get_time","input":{}}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{}"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":3}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

        event: message_stop
        data: {"type":"message_stop"}


        """

    /// Feeds `stream` in pieces of `size` bytes (0: whole), then `finish()`.
    static func run(_ stream: String, size: Int, includeUsage: Bool = false) throws -> (out: [UInt8], translator: any StreamTranslator) {
        var translator = AnthropicChatTranslation(now: { fixedNow }).makeStreamTranslator(includeUsage: includeUsage, requestedModel: "claude-sonnet-4-5")
        let bytes = Array(stream.utf8)
        var out: [UInt8] = []
        var start = 0
        let step = size == 0 ? bytes.count : size
        while start < bytes.count {
            out += try translator.consume(bytes[start..<min(start + step, bytes.count)])
            start += step
        }
        out += translator.finish()
        return (out, translator)
    }

    /// The `data:` payloads of valid SSE output (every event is exactly `data: …\n\n`).
    static func events(_ out: [UInt8]) throws -> [String] {
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasSuffix("\n\n") || text.isEmpty)
        var parts = text.components(separatedBy: "\n\n")
        #expect(parts.last == "")
        parts.removeLast()
        return try parts.map { part in
            #expect(part.hasPrefix("data: "))
            #expect(!part.contains("\n"))
            return try #require(part.hasPrefix("data: ") ? String(part.dropFirst(6)) : nil)
        }
    }

    static func chunk(_ payload: String) throws -> JSONValue {
        try #require(JSONValue.parse(Array(payload.utf8)))
    }

    func expectChunk(_ chunk: JSONValue, delta: JSONValue, finish: JSONValue = nil, includeUsage: Bool = false,
                     id: String = "chatcmpl-msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY") {
        var expected: [String: JSONValue] = [
            "id": .string(id), "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": "claude-sonnet-4-5-20250929",
            "choices": [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish]],
        ]
        if includeUsage { expected["usage"] = nil as JSONValue }
        #expect(chunk == .object(expected))
    }

    @Test(arguments: [1, 7, 0])
    func textStreamInPieces(size: Int) throws {
        let (out, translator) = try Self.run(Self.textStream, size: size)
        let events = try Self.events(out)
        try #require(events.count == 5)
        expectChunk(try Self.chunk(events[0]), delta: ["role": "assistant", "content": ""])
        expectChunk(try Self.chunk(events[1]), delta: ["content": "Hello"])
        expectChunk(try Self.chunk(events[2]), delta: ["content": "!"])
        expectChunk(try Self.chunk(events[3]), delta: [:], finish: "stop")
        #expect(events[4] == "[DONE]")
        #expect(translator.isComplete)
        #expect(translator.streamError == nil)
        #expect(translator.responseModel == "claude-sonnet-4-5-20250929")
        #expect(translator.usage == TokenUsage(uncachedInput: 25, cacheRead: 100, output: 15))
        #expect(translator.usageProblem == nil)
    }

    @Test func firstChunkBytesAreExactlyOpenAIsShape() throws {
        let (out, _) = try Self.run(Self.textStream, size: 0)
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.hasPrefix(#"""
            data: {"id":"chatcmpl-msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","object":"chat.completion.chunk","created":1700000000,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\#n\#n
            """#))
    }

    @Test(arguments: [1, 7, 0])
    func usageChunkOnlyWhenIncludeUsage(size: Int) throws {
        let (out, translator) = try Self.run(Self.textStream, size: size, includeUsage: true)
        let events = try Self.events(out)
        try #require(events.count == 6)
        expectChunk(try Self.chunk(events[0]), delta: ["role": "assistant", "content": ""], includeUsage: true)
        expectChunk(try Self.chunk(events[1]), delta: ["content": "Hello"], includeUsage: true)
        expectChunk(try Self.chunk(events[2]), delta: ["content": "!"], includeUsage: true)
        expectChunk(try Self.chunk(events[3]), delta: [:], finish: "stop", includeUsage: true)
        // prompt = 25 uncached + 100 read; completion = the final cumulative 15.
        #expect(try Self.chunk(events[4]) == [
            "id": "chatcmpl-msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "object": "chat.completion.chunk",
            "created": 1_700_000_000, "model": "claude-sonnet-4-5-20250929", "choices": [],
            "usage": ["prompt_tokens": 125, "completion_tokens": 15, "total_tokens": 140,
                      "prompt_tokens_details": ["cached_tokens": 100]],
        ])
        #expect(events[5] == "[DONE]")
        #expect(translator.isComplete)
    }

    @Test(arguments: [1, 7, 0])
    func toolUseStream(size: Int) throws {
        let (out, translator) = try Self.run(Self.toolStream, size: size)
        let events = try Self.events(out)
        let id = "chatcmpl-msg_014p7gG3wDgGV9EUtLvnow3U"
        try #require(events.count == 9)
        expectChunk(try Self.chunk(events[0]), delta: ["role": "assistant", "content": ""], id: id)
        expectChunk(try Self.chunk(events[1]), delta: ["content": "Okay, let's check."], id: id)
        expectChunk(try Self.chunk(events[2]), delta: ["tool_calls": [[
            "index": 0, "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "type": "function",
            "function": ["name": "get_weather", "arguments": ""],
        ]]], id: id)
        expectChunk(try Self.chunk(events[3]), delta: ["tool_calls": [["index": 0, "function": ["arguments": #"{"location":"#]]]], id: id)
        expectChunk(try Self.chunk(events[4]), delta: ["tool_calls": [["index": 0, "function": ["arguments": #" "San Francisco, CA"}"#]]]], id: id)
        expectChunk(try Self.chunk(events[5]), delta: ["tool_calls": [[
            "index": 1, "id": "toolu_02", "type": "function", "function": ["name": "get_time", "arguments": ""],
        ]]], id: id)
        expectChunk(try Self.chunk(events[6]), delta: ["tool_calls": [["index": 1, "function": ["arguments": "{}"]]]], id: id)
        expectChunk(try Self.chunk(events[7]), delta: [:], finish: "tool_calls", id: id)
        #expect(events[8] == "[DONE]")
        #expect(translator.usage == TokenUsage(uncachedInput: 472, output: 89))
    }

    @Test func midStreamErrorIsForwardedInOpenAIShape() throws {
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}

            event: error
            data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


            """
        let (out, translator) = try Self.run(stream, size: 7)
        let events = try Self.events(out)
        try #require(events.count == 3)
        expectChunk(try Self.chunk(events[1]), delta: ["content": "Hi"])
        #expect(try Self.chunk(events[2]) == ["error": ["message": "Overloaded", "type": "api_error", "param": nil, "code": "overloaded"]])
        #expect(translator.streamError == .serverError)
        #expect(!translator.isComplete)

        let limited = stream.replacingOccurrences(of: #""overloaded_error", "message": "Overloaded""#, with: #""rate_limit_error", "message": "Slow down""#)
        let (_, rateLimited) = try Self.run(limited, size: 0)
        #expect(rateLimited.streamError == .rateLimited)
    }

    @Test func completeOnlyAfterMessageStopAndNoInventedDone() throws {
        let full = Array(Self.textStream.utf8)
        let stopAt = try #require(Self.textStream.range(of: "event: message_stop")).lowerBound.utf16Offset(in: Self.textStream)
        var translator = translation.makeStreamTranslator(includeUsage: false, requestedModel: "claude-sonnet-4-5")
        let before = try translator.consume(full[..<stopAt])
        #expect(!translator.isComplete)
        let events = try Self.events(before)
        #expect(events.count == 4)
        #expect(!events.contains("[DONE]"))
        // The connection is cut: finish() does not invent the end.
        #expect(translator.finish().isEmpty)
        #expect(!translator.isComplete)
        // Output/usage so far is still known.
        #expect(translator.usage == TokenUsage(uncachedInput: 25, cacheRead: 100, output: 15))

        var whole = translation.makeStreamTranslator(includeUsage: false, requestedModel: "claude-sonnet-4-5")
        _ = try whole.consume(full[..<stopAt])
        let last = try whole.consume(full[stopAt...])
        #expect(try Self.events(last) == ["[DONE]"])
        #expect(whole.isComplete)
    }

    @Test func finishKeepsAWholeEventWithoutItsBlankLine() throws {
        let text = Self.textStream.trimmingCharacters(in: .newlines)  // ends with the message_stop data line
        var translator = translation.makeStreamTranslator(includeUsage: false, requestedModel: "claude-sonnet-4-5")
        let out = try translator.consume(Array(text.utf8)) + translator.finish()
        #expect(try Self.events(out).last == "[DONE]")
        #expect(translator.isComplete)
    }

    @Test func messageDeltaInputCountsWinAndModelFallsBackToRequested() throws {
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_x","type":"message","role":"assistant","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"input_tokens":30,"cache_creation_input_tokens":60,"cache_read_input_tokens":9,"output_tokens":40}}

            event: message_stop
            data: {"type":"message_stop"}


            """
        let (out, translator) = try Self.run(stream, size: 0)
        let events = try Self.events(out)
        try #require(events.count == 3)
        let finish = try Self.chunk(events[1])
        #expect(finish["model"] == "claude-sonnet-4-5")
        #expect(finish["choices"]?.arrayValue?.first?["finish_reason"] == "length")
        #expect(translator.responseModel == "")
        #expect(translator.usage == TokenUsage(uncachedInput: 30, cacheRead: 9, cacheWrite5m: 60, output: 40))
    }
}
