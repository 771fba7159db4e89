import LLMLabCore

/// Names that travel to providers and proxies as they are: route aliases (what apps send
/// as `model`) and provider model ids. Kept to characters that are safe in URLs, headers
/// and CLI arguments without quoting.
enum ModelNameValidation {
    static let maximumLength = 200

    /// A route alias: 1-200 of `A-Z a-z 0-9 . _ : / -`.
    static func alias(_ value: String, field: String = "alias") throws -> String {
        try check(value, field: field, extra: [], rule: "use 1-\(maximumLength) letters, digits, '.', '_', ':', '/' or '-' (e.g. \"gpt-4o\" or \"chat/default\")")
    }

    /// A provider's model id or an Azure OpenAI deployment name: 1-200 of
    /// `A-Z a-z 0-9 . _ : / @ + -` ("ft:gpt-4o-mini:acme::abc", "claude-sonnet-4-5@20250929").
    static func model(_ value: String, field: String) throws -> String {
        try check(value, field: field, extra: ["@", "+"], rule: "use the provider's model id (or the Azure deployment name): 1-\(maximumLength) letters, digits, '.', '_', ':', '/', '@', '+' or '-'")
    }

    private static func check(_ value: String, field: String, extra: Set<Character>, rule: String) throws -> String {
        guard !value.isEmpty else { throw ValidationError(field: field, reason: "is required; \(rule)") }
        guard value.count <= maximumLength,
              value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:/".contains($0) || extra.contains($0)) })
        else { throw ValidationError(field: field, reason: "\"\(preview(value))\" is not valid; \(rule)") }
        return value
    }

    /// At most 40 characters of bad input, so errors stay readable and bounded.
    static func preview(_ value: String) -> String {
        value.count > 40 ? String(value.prefix(40)) + "…" : value
    }
}
