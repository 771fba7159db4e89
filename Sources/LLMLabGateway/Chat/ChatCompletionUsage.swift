import Foundation

/// Token counts an OpenAI chat completion reports (`usage`), as the proxy captures them
/// for metering. OpenAI's counts nest: `promptTokens` includes `cachedTokens` and
/// `completionTokens` includes `reasoningTokens`; pricing (next step, LLMLabCore) splits
/// them into token classes.
public struct ChatCompletionUsage: Sendable, Hashable, Decodable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var cachedTokens: Int
    public var reasoningTokens: Int

    public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0, reasoningTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.reasoningTokens = reasoningTokens
    }

    private enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case promptTokensDetails = "prompt_tokens_details"
        case completionTokensDetails = "completion_tokens_details"
    }

    private enum PromptDetailsKeys: String, CodingKey {
        case cachedTokens = "cached_tokens"
    }

    private enum CompletionDetailsKeys: String, CodingKey {
        case reasoningTokens = "reasoning_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try container.decodeIfPresent(Int.self, forKey: .promptTokens) ?? 0
        completionTokens = try container.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
        if container.contains(.promptTokensDetails), try !container.decodeNil(forKey: .promptTokensDetails) {
            let details = try container.nestedContainer(keyedBy: PromptDetailsKeys.self, forKey: .promptTokensDetails)
            cachedTokens = try details.decodeIfPresent(Int.self, forKey: .cachedTokens) ?? 0
        } else {
            cachedTokens = 0
        }
        if container.contains(.completionTokensDetails), try !container.decodeNil(forKey: .completionTokensDetails) {
            let details = try container.nestedContainer(keyedBy: CompletionDetailsKeys.self, forKey: .completionTokensDetails)
            reasoningTokens = try details.decodeIfPresent(Int.self, forKey: .reasoningTokens) ?? 0
        } else {
            reasoningTokens = 0
        }
    }

    /// The `usage` member of a chat completion (or of a stream's usage chunk), if present
    /// and readable. `object` is the byte range of a validated JSON object. Read with the
    /// scanner, not `JSONDecoder`: this runs on every proxied response. Missing counts are
    /// zero; a count that is not a whole number makes the usage unreadable.
    static func extract(fromObjectAt object: Range<Int>, in bytes: [UInt8]) -> ChatCompletionUsage? {
        guard let members = try? JSONScanner.members(ofObjectAt: object, in: bytes),
              let usage = members.last(where: { $0.key == "usage" }), usage.kind == .object,
              let counts = try? JSONScanner.members(ofObjectAt: usage.value, in: bytes)
        else { return nil }
        // nil: present but not a whole number (unreadable); absent or null: 0.
        func count(_ name: String, in members: [JSONScanner.Member]) -> Int? {
            guard let member = members.last(where: { $0.key == name }), member.kind != .null else { return 0 }
            guard member.kind == .number else { return nil }
            return Int(String(decoding: bytes[member.value], as: UTF8.self))
        }
        func detail(_ object: String, _ name: String) -> Int? {
            guard let member = counts.last(where: { $0.key == object }), member.kind != .null else { return 0 }
            guard member.kind == .object, let inner = try? JSONScanner.members(ofObjectAt: member.value, in: bytes) else { return nil }
            return count(name, in: inner)
        }
        guard let prompt = count("prompt_tokens", in: counts),
              let completion = count("completion_tokens", in: counts),
              let cached = detail("prompt_tokens_details", "cached_tokens"),
              let reasoning = detail("completion_tokens_details", "reasoning_tokens")
        else { return nil }
        return ChatCompletionUsage(promptTokens: prompt, completionTokens: completion, cachedTokens: cached, reasoningTokens: reasoning)
    }

    var logMetadata: [String: String] {
        ["prompt_tokens": "\(promptTokens)", "completion_tokens": "\(completionTokens)",
         "cached_tokens": "\(cachedTokens)", "reasoning_tokens": "\(reasoningTokens)"]
    }
}
