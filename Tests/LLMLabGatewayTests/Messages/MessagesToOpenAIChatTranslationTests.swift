import HTTPTypes
import LLMLabCore
@testable import LLMLabGateway
import Testing

@Suite("Messages → OpenAI chat translation")
struct MessagesToOpenAIChatTranslationTests {
    let translation = MessagesToOpenAIChatTranslation(makeMessageID: { "msg_test" })

    func json(_ text: String) throws -> JSONValue {
        try #require(JSONValue.parse(Array(text.utf8)))
    }

    func translate(_ request: String, stream: Bool = false) throws -> JSONValue {
        let bytes = try translation.translateRequest(try json(request), model: "gpt-4o", stream: stream)
        return try #require(JSONValue.parse(bytes))
    }

    // MARK: Request

    @Test("a whole conversation: system, text, images, tool_use, tool_result, tools, options")
    func conversation() throws {
        let request = #"""
        {"model":"alias","max_tokens":512,"system":"Be brief.","stop_sequences":["END"],"temperature":0.5,"top_p":0.9,
         "top_k":40,"metadata":{"user_id":"u-42"},"thinking":{"type":"enabled","budget_tokens":1024},
         "messages":[
          {"role":"user","content":"What's the weather in Paris?"},
          {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"sig"},{"type":"text","text":"Let me check."},
            {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris","days":1}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"18°C"},{"type":"text","text":"And tomorrow?"}]},
          {"role":"user","content":[{"type":"text","text":"Look:"},
            {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0K"}},
            {"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}}]},
          {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_2","is_error":true,
            "content":[{"type":"text","text":"line 1"},{"type":"text","text":"line 2"}]}]}
         ],
         "tools":[{"name":"get_weather","description":"Weather by city",
                   "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
         "tool_choice":{"type":"auto","disable_parallel_tool_use":true}}
        """#
        let expected: JSONValue = [
            "model": "gpt-4o",
            "max_completion_tokens": 512,
            "stop": ["END"],
            "temperature": 0.5,
            "top_p": 0.9,
            "user": "u-42",
            "messages": [
                ["role": "system", "content": "Be brief."],
                ["role": "user", "content": "What's the weather in Paris?"],
                ["role": "assistant", "content": "Let me check.",
                 "tool_calls": [["id": "toolu_1", "type": "function",
                                 "function": ["name": "get_weather", "arguments": #"{"city":"Paris","days":1}"#]]]],
                ["role": "tool", "tool_call_id": "toolu_1", "content": "18°C"],
                ["role": "user", "content": "And tomorrow?"],
                ["role": "user", "content": [
                    ["type": "text", "text": "Look:"],
                    ["type": "image_url", "image_url": ["url": "data:image/png;base64,iVBORw0K"]],
                    ["type": "image_url", "image_url": ["url": "https://example.com/a.jpg"]],
                ]],
                ["role": "tool", "tool_call_id": "toolu_2", "content": "Error: line 1\nline 2"],
            ],
            "tools": [["type": "function", "function": [
                "name": "get_weather", "description": "Weather by city",
                "parameters": ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]],
            ]]],
            "tool_choice": "auto",
            "parallel_tool_calls": false,
        ]
        #expect(try translate(request) == expected)
    }

    @Test("stream: true asks for the usage chunk")
    func stream() throws {
        let out = try translate(#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Hi"}],"stream":true}"#, stream: true)
        #expect(out == [
            "model": "gpt-4o", "max_completion_tokens": 5, "messages": [["role": "user", "content": "Hi"]],
            "stream": true, "stream_options": ["include_usage": true],
        ])
    }

    @Test("system as text blocks: one block is a string, several are text parts (cache_control dropped)")
    func systemBlocks() throws {
        let one = try translate(#"{"max_tokens":5,"system":[{"type":"text","text":"A","cache_control":{"type":"ephemeral"}}],"messages":[]}"#)
        #expect(one["messages"] == [["role": "system", "content": "A"]])
        let two = try translate(#"{"max_tokens":5,"system":[{"type":"text","text":"A"},{"type":"text","text":"B"}],"messages":[]}"#)
        #expect(two["messages"] == [["role": "system", "content": [["type": "text", "text": "A"], ["type": "text", "text": "B"]]]])
    }

    @Test("tool_choice: any → required, tool → the function, none → none; no parallel_tool_calls without tools")
    func toolChoice() throws {
        let tools = #""tools":[{"name":"f","input_schema":{"type":"object"}}]"#
        #expect(try translate(#"{"max_tokens":5,"messages":[],\#(tools),"tool_choice":{"type":"any"}}"#)["tool_choice"] == "required")
        #expect(try translate(#"{"max_tokens":5,"messages":[],\#(tools),"tool_choice":{"type":"tool","name":"f"}}"#)["tool_choice"]
            == ["type": "function", "function": ["name": "f"]])
        #expect(try translate(#"{"max_tokens":5,"messages":[],\#(tools),"tool_choice":{"type":"none"}}"#)["tool_choice"] == "none")
        let noTools = try translate(#"{"max_tokens":5,"messages":[],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}"#)
        #expect(noTools["parallel_tool_calls"] == nil)
        #expect(noTools["tool_choice"] == "auto")
    }

    @Test("an assistant turn with only tool calls has content null")
    func toolOnlyAssistant() throws {
        let out = try translate(#"{"max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"call_9","name":"f","input":{}}]}]}"#)
        #expect(out["messages"] == [["role": "assistant", "content": nil,
                                     "tool_calls": [["id": "call_9", "type": "function", "function": ["name": "f", "arguments": "{}"]]]]])
    }

    static let badRequests: [(body: String, param: String)] = [
        (#"{"max_tokens":5,"messages":[{"role":"system","content":"x"}]}"#, "messages[0].role"),
        (#"{"max_tokens":5,"messages":[{"role":"user"}]}"#, "messages[0].content"),
        (#"{"max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"document","source":{}}]}]}"#, "messages[1].content[0].type"),
        (#"{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"file","file_id":"f"}}]}]}"#, "messages[0].content[0].source.type"),
        (#"{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a"},{"type":"image","source":{}}]}]}]}"#, "messages[0].content[0].content[1]"),
        (#"{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}"#, "messages[0].content[0].tool_use_id"),
        (#"{"max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":[1]}]}]}"#, "messages[0].content[0].input"),
        (#"{"max_tokens":5,"messages":[],"tools":[{"type":"web_search_20250305","name":"web_search"}]}"#, "tools[0].type"),
        (#"{"max_tokens":5,"messages":[],"tools":[{"name":"f"}]}"#, "tools[0].input_schema"),
        (#"{"max_tokens":5,"messages":[],"tool_choice":{"type":"tool"}}"#, "tool_choice.name"),
        (#"{"max_tokens":5,"messages":[],"tool_choice":{"type":"sometimes"}}"#, "tool_choice.type"),
        (#"{"max_tokens":5,"messages":[],"stop_sequences":"END"}"#, "stop_sequences"),
        (#"{"max_tokens":5,"messages":[],"metadata":{"user_id":5}}"#, "metadata.user_id"),
        (#"{"max_tokens":5,"messages":[],"temperature":"hot"}"#, "temperature"),
        (#"{"max_tokens":0,"messages":[]}"#, "max_tokens"),
        (#"{"max_tokens":5,"messages":[],"system":[{"type":"image"}]}"#, "system[0]"),
    ]

    @Test("a request OpenAI cannot express is a 400 naming the field", arguments: badRequests)
    func refused(body: String, param: String) throws {
        let value = try json(body)
        do {
            _ = try translation.translateRequest(value, model: "gpt-4o", stream: false)
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.status.code == 400)
            #expect(error.param == param)
            #expect(error.message.contains(param), "\(error.message)")
        }
    }

    // MARK: Response

    static let completion = #"""
    {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-2024-08-06",
     "choices":[{"index":0,"message":{"role":"assistant","content":"Checking.","tool_calls":[
       {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
       "finish_reason":"tool_calls"}],
     "usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":60},
              "completion_tokens_details":{"reasoning_tokens":5}}}
    """#

    @Test("a chat completion becomes an Anthropic message; usage is OpenAI's, normalised")
    func response() throws {
        let result = try translation.translateResponse(Array(Self.completion.utf8), requestedModel: "alias")
        #expect(JSONValue.parse(result.body) == [
            "id": "msg_test", "type": "message", "role": "assistant", "model": "gpt-4o-2024-08-06",
            "content": [
                ["type": "text", "text": "Checking."],
                ["type": "tool_use", "id": "call_1", "name": "get_weather", "input": ["city": "Paris"]],
            ],
            "stop_reason": "tool_use", "stop_sequence": nil,
            // input = 100 prompt − 60 cached; output = all 20 completion tokens (Anthropic counts thinking as output).
            "usage": ["input_tokens": 40, "output_tokens": 20, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0],
        ])
        // Billing: 40 uncached + 60 cached input; 20 − 5 reasoning = 15 output, 5 reasoning.
        #expect(result.usage == TokenUsage(uncachedInput: 40, cacheRead: 60, output: 15, reasoning: 5))
        #expect(result.usageProblem == nil)
        #expect(result.responseModel == "gpt-4o-2024-08-06")
    }

    @Test("finish_reason → stop_reason", arguments: [
        ("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"), ("content_filter", "refusal"),
    ])
    func stopReasons(finish: String, stop: String) throws {
        let body = #"{"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":"\#(finish)"}]}"#
        let result = try translation.translateResponse(Array(body.utf8), requestedModel: "alias")
        let message = try #require(JSONValue.parse(result.body))
        #expect(message["stop_reason"] == .string(stop))
        // No usage: zeros in the body, nothing for the meter.
        #expect(message["usage"] == ["input_tokens": 0, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0])
        #expect(result.usage == nil)
    }

    @Test("an unreadable completion, or tool arguments that are not an object, are a 502")
    func unreadable() {
        let bodies = [
            "not json",
            #"{"choices":[]}"#,
            #"{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{oops"}}]}}]}"#,
        ]
        for body in bodies {
            do {
                _ = try translation.translateResponse(Array(body.utf8), requestedModel: "m")
                Issue.record("accepted \(body)")
            } catch {
                #expect(error.status.code == 502)
                #expect(error.code == "upstream_invalid_response")
            }
        }
    }

    // MARK: Errors

    @Test("OpenAI errors take Anthropic's shape; the type follows the status", arguments: [
        (400, "invalid_request_error"), (401, "authentication_error"), (403, "permission_error"), (404, "not_found_error"),
        (413, "request_too_large"), (429, "rate_limit_error"), (500, "api_error"), (503, "overloaded_error"),
        (529, "overloaded_error"),
    ])
    func errors(status: Int, type: String) throws {
        let body = #"{"error":{"message":"Something happened","type":"server_error","param":null,"code":null}}"#
        let out = translation.translateError(status: status, body: Array(body.utf8))
        #expect(JSONValue.parse(out) == ["type": "error", "error": ["type": .string(type), "message": "Something happened"]])
    }

    @Test("an error body that is not OpenAI's keeps its text as the message")
    func foreignError() {
        let out = translation.translateError(status: 502, body: Array("  upstream exploded\n".utf8))
        #expect(String(decoding: out, as: UTF8.self) == #"{"error":{"message":"upstream exploded","type":"api_error"},"type":"error"}"#)
        let empty = translation.translateError(status: 504, body: [])
        #expect(JSONValue.parse(empty) == ["type": "error", "error": ["type": "timeout_error", "message": "the upstream answered HTTP 504"]])
    }
}

@Suite("OpenAI chat stream → Messages stream")
struct OpenAIChatToMessagesStreamTests {
    static func chunk(_ body: String) -> String {
        #"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-2024-08-06",\#(body)}"# + "\n\n"
    }

    static let upstream: [String] = [
        chunk(#""choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null"#),
        chunk(#""choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":null"#),
        chunk(#""choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}],"usage":null"#),
        chunk(#""choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}],"usage":null"#),
        chunk(#""choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}],"usage":null"#),
        chunk(#""choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}],"usage":null"#),
        chunk(#""choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]},"finish_reason":null}],"usage":null"#),
        chunk(#""choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":null"#),
        chunk(#""choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":60}}"#),
        "data: [DONE]\n\n",
    ]

    static let messageStart: JSONValue = [
        "type": "message_start",
        "message": ["id": "msg_test", "type": "message", "role": "assistant", "content": [], "model": "gpt-4o-2024-08-06",
                    "stop_reason": nil, "stop_sequence": nil,
                    "usage": ["input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0]],
    ]

    static let expected: [JSONValue] = [
        messageStart,
        ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]],
        ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": "Hel"]],
        ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": "lo"]],
        ["type": "content_block_stop", "index": 0],
        ["type": "content_block_start", "index": 1, "content_block": ["type": "tool_use", "id": "call_1", "name": "get_weather", "input": [:]]],
        ["type": "content_block_delta", "index": 1, "delta": ["type": "input_json_delta", "partial_json": #"{"city":"#]],
        ["type": "content_block_delta", "index": 1, "delta": ["type": "input_json_delta", "partial_json": #""Paris"}"#]],
        ["type": "content_block_stop", "index": 1],
        ["type": "content_block_start", "index": 2, "content_block": ["type": "tool_use", "id": "call_2", "name": "get_time", "input": [:]]],
        ["type": "content_block_delta", "index": 2, "delta": ["type": "input_json_delta", "partial_json": "{}"]],
        ["type": "content_block_stop", "index": 2],
        ["type": "message_delta", "delta": ["stop_reason": "tool_use", "stop_sequence": nil],
         "usage": ["input_tokens": 40, "output_tokens": 20, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0]],
        ["type": "message_stop"],
    ]

    /// The events of `out`, each checked to be exactly `event: <type>\ndata: <json>` with
    /// the data's `type` equal to the event name.
    static func events(_ out: [UInt8]) throws -> [JSONValue] {
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.isEmpty || text.hasSuffix("\n\n"))
        var events: [JSONValue] = []
        for event in text.split(separator: "\n\n", omittingEmptySubsequences: true) {
            let lines = event.split(separator: "\n", omittingEmptySubsequences: false)
            try #require(lines.count == 2, "\(event)")
            try #require(lines[0].hasPrefix("event: ") && lines[1].hasPrefix("data: "), "\(event)")
            let data = try #require(JSONValue.parse(Array(lines[1].dropFirst(6).utf8)))
            #expect(data["type"] == .string(String(lines[0].dropFirst(7))))
            events.append(data)
        }
        return events
    }

    func translator() -> any StreamTranslator {
        MessagesToOpenAIChatTranslation(makeMessageID: { "msg_test" }).makeStreamTranslator(includeUsage: false, requestedModel: "alias")
    }

    @Test("text then two tool calls, cut anywhere: the documented event sequence", arguments: [1, 7, Int.max])
    func sequence(pieceSize: Int) throws {
        var stream = translator()
        let input = Array(Self.upstream.joined().utf8)
        let out = try feedMessagesStream(&stream, input, pieceSize: min(pieceSize, input.count))
        #expect(try Self.events(out) == Self.expected)
        #expect(stream.isComplete)
        #expect(stream.usage == TokenUsage(uncachedInput: 40, cacheRead: 60, output: 20))
        #expect(stream.usageProblem == nil)
        #expect(stream.responseModel == "gpt-4o-2024-08-06")
        #expect(stream.streamError == nil)
    }

    @Test("message_delta goes out with the usage chunk; message_stop only at [DONE]")
    func timing() throws {
        var stream = translator()
        let beforeUsage = try stream.consume(Array(Self.upstream.prefix(8).joined().utf8))
        #expect(try Self.events(beforeUsage) == Array(Self.expected.prefix(12)))
        let usage = try stream.consume(Array(Self.upstream[8].utf8))
        #expect(try Self.events(usage) == [Self.expected[12]])
        #expect(!stream.isComplete)
        let done = try stream.consume(Array(Self.upstream[9].utf8))
        #expect(try Self.events(done) == [Self.expected[13]])
        #expect(stream.isComplete)
    }

    @Test("without a usage chunk: message_delta at [DONE] with output_tokens 0; the requested model when none is reported")
    func noUsage() throws {
        let upstream = [
            #"data: {"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"# + "\n\n",
            #"data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"# + "\n\n",
            ": keep-alive\n\n",
            "data: [DONE]\n\n",
        ].joined()
        var stream = translator()
        let out = try feedMessagesStream(&stream, Array(upstream.utf8), pieceSize: 3)
        var start = Self.messageStart
        if case .object(var members) = start, case .object(var message) = members["message"] {
            message["model"] = "alias"
            members["message"] = .object(message)
            start = .object(members)
        }
        #expect(try Self.events(out) == [
            start,
            ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]],
            ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": "Hi"]],
            ["type": "content_block_stop", "index": 0],
            ["type": "ping"],
            ["type": "message_delta", "delta": ["stop_reason": "max_tokens", "stop_sequence": nil], "usage": ["output_tokens": 0]],
            ["type": "message_stop"],
        ])
        #expect(stream.usage == nil)
        #expect(stream.responseModel == "")
        #expect(stream.isComplete)
    }

    @Test("an OpenAI error event becomes Anthropic's error event", arguments: [
        (#"{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}"#, "rate_limit_error", UpstreamErrorClass.rateLimited),
        (#"{"message":"The server had an error","type":"server_error","code":null}"#, "api_error", .serverError),
    ])
    func errorEvent(error: String, type: String, expected: UpstreamErrorClass) throws {
        let upstream = Self.upstream[1] + #"data: {"error":\#(error)}"# + "\n\n"
        var stream = translator()
        let out = try feedMessagesStream(&stream, Array(upstream.utf8), pieceSize: 7)
        let events = try Self.events(out)
        #expect(events.count == 4)
        #expect(events.last == ["type": "error", "error": ["type": .string(type),
                                                          "message": JSONValue.parse(Array(error.utf8))!["message"]!]])
        #expect(stream.streamError == expected)
        #expect(!stream.isComplete)
    }

    @Test("tool calls without index (some compatible servers): a new id is a new block")
    func toolCallsWithoutIndex() throws {
        let upstream = [
            #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"x\""}}]}}]}"# + "\n\n",
            #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":":1}"}}]}}]}"# + "\n\n",
            #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"id":"b","function":{"name":"g","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"# + "\n\n",
            "data: [DONE]\n\n",
        ].joined()
        var stream = translator()
        let events = try Self.events(try feedMessagesStream(&stream, Array(upstream.utf8), pieceSize: 11))
        #expect(Array(events.dropFirst()) == [
            ["type": "content_block_start", "index": 0, "content_block": ["type": "tool_use", "id": "a", "name": "f", "input": [:]]],
            ["type": "content_block_delta", "index": 0, "delta": ["type": "input_json_delta", "partial_json": #"{"x""#]],
            ["type": "content_block_delta", "index": 0, "delta": ["type": "input_json_delta", "partial_json": ":1}"]],
            ["type": "content_block_stop", "index": 0],
            ["type": "content_block_start", "index": 1, "content_block": ["type": "tool_use", "id": "b", "name": "g", "input": [:]]],
            ["type": "content_block_delta", "index": 1, "delta": ["type": "input_json_delta", "partial_json": "{}"]],
            ["type": "content_block_stop", "index": 1],
            ["type": "message_delta", "delta": ["stop_reason": "tool_use", "stop_sequence": nil], "usage": ["output_tokens": 0]],
            ["type": "message_stop"],
        ])
    }

    @Test("a stream cut before [DONE] gets no invented end")
    func cut() throws {
        var stream = translator()
        let out = try feedMessagesStream(&stream, Array(Self.upstream.prefix(3).joined().utf8), pieceSize: 5)
        #expect(try Self.events(out) == Array(Self.expected.prefix(4)))
        #expect(!stream.isComplete)
    }

    @Test("an empty answer still makes a well-formed message")
    func empty() throws {
        var stream = translator()
        let out = try feedMessagesStream(&stream, Array("data: [DONE]\n\n".utf8), pieceSize: 100)
        let events = try Self.events(out)
        #expect(events.map { $0["type"] } == ["message_start", "message_delta", "message_stop"])
        #expect(events[1]["delta"]?["stop_reason"] == "end_turn")
    }
}
