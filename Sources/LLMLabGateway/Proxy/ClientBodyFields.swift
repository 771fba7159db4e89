import HTTPTypes

/// The top-level members of a client's JSON request body, with the checks every proxy
/// endpoint shares: the body is one JSON object, `model` is a non-empty string, arrays and
/// booleans are what they claim. Endpoint-specific checks (`max_tokens`, `stream_options`,
/// `input`) stay with each endpoint's body type. Like most JSON parsers (and the
/// providers'), the last of duplicate members wins.
struct ClientBodyFields {
    let bytes: [UInt8]
    let document: Range<Int>
    let members: [JSONScanner.Member]

    /// Parses `bytes`; `expecting` names what the object should hold, for messages
    /// ("model and messages").
    static func parse(_ bytes: [UInt8], expecting: String) throws(GatewayError) -> ClientBodyFields {
        let document: (kind: JSONScanner.Kind, range: Range<Int>)
        do {
            document = try JSONScanner.document(bytes)
        } catch {
            throw GatewayError(.badRequest, .invalidRequest,
                               bytes.isEmpty ? "the request body is empty; send a JSON object with \(expecting)"
                                             : "the request body is not valid JSON (\(error)); send a JSON object with \(expecting)",
                               code: "invalid_json")
        }
        guard document.kind == .object else {
            throw GatewayError(.badRequest, .invalidRequest, "the request body must be a JSON object with \(expecting)", code: "invalid_json")
        }
        do {
            return ClientBodyFields(bytes: bytes, document: document.range,
                                    members: try JSONScanner.members(ofObjectAt: document.range, in: bytes))
        } catch {
            throw GatewayError(.badRequest, .invalidRequest, "the request body is not valid JSON (\(error))", code: "invalid_json")
        }
    }

    /// The last member called `name`.
    func member(_ name: String) -> JSONScanner.Member? {
        members.last { $0.key == name }
    }

    /// `model`: present and a non-empty string.
    func model(example: String) throws(GatewayError) -> String {
        guard let member = member("model"), member.kind != .null else {
            throw GatewayError(.badRequest, .invalidRequest, "you must provide a model parameter (e.g. \"model\": \"\(example)\")",
                               param: "model", code: "missing_required_parameter")
        }
        guard member.kind == .string, let model = try? JSONScanner.string(at: member.value, in: bytes), !model.isEmpty else {
            throw GatewayError(.badRequest, .invalidRequest, "model must be a non-empty string naming the model", param: "model",
                               code: "invalid_type")
        }
        return model
    }

    /// A required array member; `what` describes its elements ("chat messages").
    func requireArray(_ name: String, of what: String) throws(GatewayError) {
        guard let member = member(name), member.kind != .null else {
            throw GatewayError(.badRequest, .invalidRequest, "you must provide a \(name) parameter: an array of \(what)",
                               param: name, code: "missing_required_parameter")
        }
        guard member.kind == .array else {
            throw GatewayError(.badRequest, .invalidRequest, "\(name) must be an array of \(what)", param: name, code: "invalid_type")
        }
    }

    /// An optional boolean member (`null` counts as absent).
    func bool(_ name: String) throws(GatewayError) -> Bool? {
        guard let member = member(name), member.kind != .null else { return nil }
        guard member.kind == .bool else {
            throw GatewayError(.badRequest, .invalidRequest, "\(name) must be true or false", param: name, code: "invalid_type")
        }
        return JSONScanner.bool(at: member.value, in: bytes)
    }

    /// A member that is a whole number written with digits only ("1.0", "1e3" are not), or nil.
    func integer(_ name: String) -> Int? {
        guard let member = member(name), member.kind == .number else { return nil }
        return Int(String(decoding: bytes[member.value], as: UTF8.self))
    }

    /// The end user the client named, for cost by user: OpenAI's `user` (or its successor
    /// `safety_identifier`), else Anthropic's `metadata.user_id`; "" when none is a string.
    /// Never validated here (the provider judges its own fields); cut to
    /// ``ClientRequest/maxEndUserLength`` characters.
    func endUser() -> String {
        for name in ["user", "safety_identifier"] {
            if let member = member(name), member.kind == .string,
               let value = try? JSONScanner.string(at: member.value, in: bytes), !value.isEmpty {
                return ClientRequest.endUser(value)
            }
        }
        if let metadata = member("metadata"), metadata.kind == .object,
           let fields = try? JSONScanner.members(ofObjectAt: metadata.value, in: bytes),
           let userID = fields.last(where: { $0.key == "user_id" }), userID.kind == .string,
           let value = try? JSONScanner.string(at: userID.value, in: bytes) {
            return ClientRequest.endUser(value)
        }
        return ""
    }

    /// `bytes` with every top-level `model` member's value replaced by `model` (a route
    /// deployment's model). Nothing else changes: key order, numbers and whitespace survive.
    static func replacingModel(in bytes: [UInt8], with model: String) -> [UInt8] {
        replacingTopLevelMember("model", with: Array(GatewayError.quoted(model).utf8), in: bytes)
    }

    /// `bytes` with every top-level `name` member's value replaced by `replacement` (a JSON
    /// value's encoding); unchanged when `bytes` is not an object or has no such member.
    static func replacingTopLevelMember(_ name: String, with replacement: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard let document = try? JSONScanner.document(bytes), document.kind == .object,
              let members = try? JSONScanner.members(ofObjectAt: document.range, in: bytes)
        else { return bytes }
        var out = bytes
        for member in members.reversed() where member.key == name {
            out.replaceSubrange(member.value, with: replacement)
        }
        return out
    }
}
