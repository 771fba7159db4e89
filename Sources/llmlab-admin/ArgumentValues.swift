import ArgumentParser
import Foundation
import LLMLabProto
import SwiftProtobuf

/// A tenant role as typed on the command line. Parsing failures are usage errors (64)
/// listing the accepted spellings.
enum RoleArgument: String, CaseIterable, ExpressibleByArgument {
    case viewer, member, admin, owner

    var wire: Llmlab_V1_Role {
        switch self {
        case .viewer: .viewer
        case .member: .member
        case .admin: .admin
        case .owner: .owner
        }
    }
}

/// A provider as typed on the command line (`azure-openai` is accepted for `azure_openai`).
enum ProviderArgument: String, CaseIterable, ExpressibleByArgument {
    case openai
    case azureOpenAI = "azure_openai"
    case anthropic
    case gemini

    init?(argument: String) {
        let normalized = argument.lowercased().replacingOccurrences(of: "-", with: "_")
        guard let value = Self(rawValue: normalized) else { return nil }
        self = value
    }

    var wire: Llmlab_V1_Provider {
        switch self {
        case .openai: .openai
        case .azureOpenAI: .azureOpenai
        case .anthropic: .anthropic
        case .gemini: .gemini
        }
    }
}

/// A comma-separated provider allow-list; `all` (or `any`) means every provider, which
/// the API spells as an empty list.
struct ProviderList: ExpressibleByArgument {
    var providers: [Llmlab_V1_Provider]

    init?(argument: String) {
        let trimmed = argument.trimmingWhitespace().lowercased()
        if trimmed == "all" || trimmed == "any" {
            providers = []
            return
        }
        var result: [Llmlab_V1_Provider] = []
        for part in trimmed.split(separator: ",") {
            guard let provider = ProviderArgument(argument: String(part).trimmingWhitespace()) else { return nil }
            if !result.contains(provider.wire) { result.append(provider.wire) }
        }
        guard !result.isEmpty else { return nil }
        providers = result
    }

    static var defaultCompletionKind: CompletionKind {
        .list(ProviderArgument.allCases.map(\.rawValue) + ["all"])
    }
}

/// API key scopes: `control`, `proxy`, `ingest`, comma-separated.
struct ScopeList: ExpressibleByArgument {
    static let known = ["control", "proxy", "ingest"]
    var scopes: [String]

    init?(argument: String) {
        var result: [String] = []
        for part in argument.lowercased().split(separator: ",") {
            let scope = String(part).trimmingWhitespace()
            guard Self.known.contains(scope) else { return nil }
            if !result.contains(scope) { result.append(scope) }
        }
        guard !result.isEmpty else { return nil }
        scopes = result
    }
}

/// A dollar amount kept as the exact decimal text the API expects (`250`, `99.95`), never
/// converted to a floating-point number.
struct USDArgument: ExpressibleByArgument {
    var decimal: String

    init?(argument: String) {
        var text = argument.trimmingWhitespace()
        if text.hasPrefix("$") { text.removeFirst() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count),
              let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit)
        else { return nil }
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...6).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        }
        decimal = text
    }
}

/// A relative lifetime such as `30d`, `12h`, `90m`, `2w` or `1d12h`.
struct LifetimeArgument: ExpressibleByArgument {
    var seconds: Int64

    init?(argument: String) {
        var total: Int64 = 0
        var digits = ""
        for character in argument.trimmingWhitespace().lowercased() {
            if character.isASCIIDigit {
                digits.append(character)
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            case "w": unit = 604_800
            default: return nil
            }
            guard let count = Int64(digits), count < 100_000 else { return nil }
            total += count * unit
            digits = ""
        }
        guard digits.isEmpty, total > 0 else { return nil }
        seconds = total
    }
}

/// An RFC 3339 time (`2025-03-01T12:00:00Z`, fractional seconds and offsets allowed) or a
/// bare date (`2025-03-01`, meaning midnight UTC).
struct TimeArgument: ExpressibleByArgument {
    var date: Date

    init?(argument: String) {
        let text = argument.trimmingWhitespace()
        let utc = TimeZone(identifier: "UTC")
        let attempts: [ISO8601DateFormatter.Options] = [
            [.withInternetDateTime],
            [.withInternetDateTime, .withFractionalSeconds],
            [.withFullDate],
        ]
        for options in attempts {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            formatter.timeZone = utc
            if let parsed = formatter.date(from: text) {
                date = parsed
                return
            }
        }
        return nil
    }

    var timestamp: Google_Protobuf_Timestamp { Google_Protobuf_Timestamp(date: date) }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// `on` / `off` (also `true`/`false`, `yes`/`no`).
enum OnOffArgument: String, CaseIterable, ExpressibleByArgument {
    case on, off

    init?(argument: String) {
        switch argument.trimmingWhitespace().lowercased() {
        case "on", "true", "yes": self = .on
        case "off", "false", "no": self = .off
        default: return nil
        }
    }

    var isOn: Bool { self == .on }
}
