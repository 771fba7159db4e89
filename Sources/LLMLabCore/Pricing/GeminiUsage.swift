/// The `usageMetadata` object of a Gemini `generateContent` / `streamGenerateContent`
/// response, as on the wire (camelCase keys; zero counts are usually omitted, so every
/// count is optional and absent means 0).
///
/// `promptTokenCount` INCLUDES `cachedContentTokenCount`; `thoughtsTokenCount` (thinking)
/// is reported apart from `candidatesTokenCount` and billed as output;
/// `toolUsePromptTokenCount` (prompt tokens of tool-use rounds, e.g. grounding results)
/// is reported apart from `promptTokenCount` and billed as input.
///
/// Audio prompt tokens are priced higher than text on some models; the catalog holds the
/// text / image / video rate, so audio input is under-priced by this model (see the
/// catalog notes).
public struct GeminiUsageMetadata: Sendable, Hashable, Codable {
    public var promptTokenCount: Int?
    public var candidatesTokenCount: Int?
    public var totalTokenCount: Int?
    public var cachedContentTokenCount: Int?
    public var thoughtsTokenCount: Int?
    public var toolUsePromptTokenCount: Int?

    public init(promptTokenCount: Int? = nil, candidatesTokenCount: Int? = nil, totalTokenCount: Int? = nil,
                cachedContentTokenCount: Int? = nil, thoughtsTokenCount: Int? = nil, toolUsePromptTokenCount: Int? = nil) {
        self.promptTokenCount = promptTokenCount
        self.candidatesTokenCount = candidatesTokenCount
        self.totalTokenCount = totalTokenCount
        self.cachedContentTokenCount = cachedContentTokenCount
        self.thoughtsTokenCount = thoughtsTokenCount
        self.toolUsePromptTokenCount = toolUsePromptTokenCount
    }

    /// Billing classes: uncached input = prompt − cached + tool-use prompt; output =
    /// candidates; reasoning = thoughts.
    public func normalized() throws(UsageShapeError) -> TokenUsage {
        let prompt = try UsageShapeError.check(promptTokenCount ?? 0, "promptTokenCount")
        let cached = try UsageShapeError.check(cachedContentTokenCount ?? 0, "cachedContentTokenCount")
        let toolUse = try UsageShapeError.check(toolUsePromptTokenCount ?? 0, "toolUsePromptTokenCount")
        let candidates = try UsageShapeError.check(candidatesTokenCount ?? 0, "candidatesTokenCount")
        let thoughts = try UsageShapeError.check(thoughtsTokenCount ?? 0, "thoughtsTokenCount")
        try UsageShapeError.checkPart(cached, "cachedContentTokenCount", of: prompt, "promptTokenCount")
        return TokenUsage(uncachedInput: prompt - cached + toolUse, cacheRead: cached, output: candidates, reasoning: thoughts)
    }
}
