/// How model names are compared: a provider reports the same model under several
/// spellings ("models/gemini-2.5-pro", "GPT-4o", "gpt-4o-2024-08-06"), and the catalog
/// lists canonical ids plus aliases.
enum ModelName {
    /// Lowercased, trimmed, without Gemini's `models/` resource prefix.
    static func normalized(_ raw: String) -> String {
        var name = Substring(raw.lowercased())
        while let first = name.first, first.isWhitespace { name.removeFirst() }
        while let last = name.last, last.isWhitespace { name.removeLast() }
        if name.hasPrefix("models/") { name = name.dropFirst("models/".count) }
        return String(name)
    }

    /// The name without a dated or numbered snapshot suffix, or nil when it has none:
    /// `-YYYY-MM-DD` (OpenAI, "gpt-4o-2024-08-06"), `-YYYYMMDD` (Anthropic,
    /// "claude-sonnet-4-20250514") and `-NNN` (Gemini, "gemini-2.0-flash-001").
    ///
    /// Used only when no exact name matches, so a snapshot with its own price (listed by
    /// name in the catalog) is never priced as its base model. Fine-tuned ids
    /// ("ft:gpt-4o-mini-2024-07-18:org::id") keep their prefix and so never match a base model.
    static func withoutSnapshotSuffix(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        for pattern in ["-dddd-dd-dd", "-dddddddd", "-ddd"] {
            let shape = Array(pattern.utf8)
            guard bytes.count > shape.count else { continue }
            let tail = bytes[(bytes.count - shape.count)...]
            let matches = zip(tail, shape).allSatisfy { byte, expected in
                expected == UInt8(ascii: "d") ? (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) : byte == expected
            }
            if matches { return String(decoding: bytes[..<(bytes.count - shape.count)], as: UTF8.self) }
        }
        return nil
    }
}
