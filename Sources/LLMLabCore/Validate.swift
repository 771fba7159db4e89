public import Foundation

/// Field validation shared by every RPC. Each check throws a ``ValidationError`` that
/// names the wire field and says what a valid value looks like.
public enum Validate {
    /// Tenant slugs become part of URLs and CLI arguments, so they are kept to a safe,
    /// readable alphabet: 3–40 of `a-z 0-9 -`, starting with a letter, no double or
    /// trailing hyphen.
    public static func slug(_ value: String, field: String = "slug") throws -> String {
        let rule = "use 3-40 lowercase letters, digits or single hyphens, starting with a letter (e.g. \"acme-prod\")"
        guard !value.isEmpty else { throw ValidationError(field: field, reason: "is required; \(rule)") }
        let bytes = Array(value.utf8)
        guard (3...40).contains(bytes.count),
              let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
              bytes.last != UInt8(ascii: "-"),
              !value.contains("--"),
              bytes.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: "-") })
        else { throw ValidationError(field: field, reason: "\"\(preview(value))\" is not a valid slug; \(rule)") }
        return value
    }

    /// A practical email check (one `@`, a dotted domain, no spaces, ≤ 254 bytes); the
    /// result is lowercased so that logins are case-insensitive.
    public static func email(_ value: String, field: String = "email") throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ValidationError(field: field, reason: "is required, e.g. \"ada@example.com\"") }
        guard trimmed.utf8.count <= 254 else { throw ValidationError(field: field, reason: "is longer than 254 characters") }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              !trimmed.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "," || $0 == ";" })
        else { throw ValidationError(field: field, reason: "\"\(preview(trimmed))\" is not an email address, e.g. \"ada@example.com\"") }
        return trimmed.lowercased()
    }

    /// Password length policy (NIST 800-63B style: long, no composition rules). The upper
    /// bound keeps argon2 input sane. The password is never echoed back.
    public static func password(_ value: String, field: String = "password") throws -> String {
        let count = value.count
        guard count >= 12 else { throw ValidationError(field: field, reason: "must be at least 12 characters") }
        guard value.utf8.count <= 1024 else { throw ValidationError(field: field, reason: "must be at most 1024 bytes") }
        return value
    }

    /// A human-facing name: trimmed, 1…`maxLength` characters, no control characters.
    public static func name(_ value: String, field: String, maxLength: Int = 100) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ValidationError(field: field, reason: "is required") }
        guard trimmed.count <= maxLength else { throw ValidationError(field: field, reason: "must be at most \(maxLength) characters") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError(field: field, reason: "must not contain control characters")
        }
        return trimmed
    }

    /// Optional free text (reasons, notes): may be empty, bounded, no control characters.
    public static func text(_ value: String, field: String, maxLength: Int = 500) throws -> String {
        if value.isEmpty { return value }
        return try name(value, field: field, maxLength: maxLength)
    }

    /// An id the API handed out (a UUID). Anything else is a malformed id, not "not found".
    public static func id(_ value: String, field: String) throws -> UUID {
        guard !value.isEmpty else { throw ValidationError(field: field, reason: "is required") }
        guard value.utf8.count == 36, let uuid = UUID(uuidString: value) else {
            throw ValidationError(field: field, reason: "\"\(preview(value))\" is not an id; ids look like 3f2a…-…, as returned by the List calls")
        }
        return uuid
    }

    /// An optional id: empty means absent.
    public static func optionalID(_ value: String, field: String) throws -> UUID? {
        value.isEmpty ? nil : try id(value, field: field)
    }

    /// Page sizes: 0 means the default; above the maximum is an error rather than a
    /// silent clamp, so scripts learn the limit.
    public static func pageSize(_ value: Int32, field: String = "page_size", default defaultSize: Int = 50, maximum: Int = 500) throws -> Int {
        if value == 0 { return defaultSize }
        guard value > 0, Int(value) <= maximum else {
            throw ValidationError(field: field, reason: "must be between 1 and \(maximum) (0 for the default \(defaultSize))")
        }
        return Int(value)
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Echo at most 40 characters of bad input, so errors stay readable and bounded.
    static func preview(_ value: String) -> String {
        value.count > 40 ? String(value.prefix(40)) + "…" : value
    }
}
