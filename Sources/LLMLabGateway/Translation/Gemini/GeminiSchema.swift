/// JSON Schema from an OpenAI request (function `parameters`, `response_format.json_schema.schema`)
/// reduced to what Gemini's `Schema` object (an OpenAPI 3.0 subset) accepts.
///
/// Gemini answers 400 ("Invalid JSON payload received. Unknown name ...") for JSON Schema
/// keywords outside its subset. The ones OpenAI clients routinely send are removed, at every
/// depth: `additionalProperties` (required by OpenAI's strict mode), `$schema`, and `strict`.
/// Names under `properties` are property names, not keywords, so a property called `strict`
/// is kept. Everything else passes through unchanged: Gemini reports what it cannot use.
/// (Gemini API reference, "Schema": https://ai.google.dev/api/caching#Schema)
enum GeminiSchema {
    static let removedKeywords: Set<String> = ["additionalProperties", "$schema", "strict"]

    static func stripped(_ schema: JSONValue) -> JSONValue {
        switch schema {
        case .object(let members):
            var result: [String: JSONValue] = [:]
            for (key, value) in members where !removedKeywords.contains(key) {
                if key == "properties" || key == "$defs" || key == "definitions", case .object(let named) = value {
                    result[key] = .object(named.mapValues(stripped))
                } else {
                    result[key] = stripped(value)
                }
            }
            return .object(result)
        case .array(let items):
            return .array(items.map(stripped))
        default:
            return schema
        }
    }

    /// Whether `schema` describes an object without any property (`{"type":"object"}`,
    /// `{"type":"object","properties":{}}`): Gemini rejects an OBJECT schema with empty
    /// `properties`, and a function without arguments simply has no `parameters`.
    static func isEmptyObject(_ schema: JSONValue) -> Bool {
        guard case .object(let members) = schema else { return false }
        let type = members["type"]?.stringValue?.lowercased()
        guard type == "object" || type == nil else { return false }
        let others = members.keys.filter { $0 != "type" && $0 != "properties" && $0 != "required" && $0 != "description" }
        guard others.isEmpty else { return false }
        return (members["properties"]?.objectValue ?? [:]).isEmpty
    }
}
