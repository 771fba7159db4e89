import Foundation
import LLMLabProto
import SwiftProtobuf

/// How wire values read in tables: lowercase role and provider names as typed on the
/// command line, RFC 3339 UTC timestamps, plain durations, dollar amounts as the exact
/// decimal the server sent (never through a floating-point type).
enum Display {
    static let none = "-"

    /// RFC 3339 in UTC with second precision, e.g. `2025-03-01T12:00:00Z`; `-` when unset.
    static func timestamp(_ value: Google_Protobuf_Timestamp, isSet: Bool) -> String {
        isSet ? rfc3339(value.date) : none
    }

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// A rough human duration: `45s`, `12m`, `3h 5m`, `29d 4h`.
    static func duration(seconds total: Int64) -> String {
        let value = abs(total)
        let days = value / 86_400, hours = (value % 86_400) / 3_600
        let minutes = (value % 3_600) / 60, seconds = value % 60
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
        if minutes > 0 { return "\(minutes)m" }
        return "\(seconds)s"
    }

    /// `2025-03-01T12:00:00Z (in 11h 59m)` or `(… ago)`.
    static func timestampWithDistance(_ date: Date, now: Date = Date()) -> String {
        let delta = Int64(date.timeIntervalSince(now).rounded())
        let distance = delta >= 0 ? "in \(duration(seconds: delta))" : "\(duration(seconds: delta)) ago"
        return "\(rfc3339(date)) (\(distance))"
    }

    static func role(_ role: Llmlab_V1_Role) -> String {
        switch role {
        case .viewer: "viewer"
        case .member: "member"
        case .admin: "admin"
        case .owner: "owner"
        case .unspecified: none
        case .UNRECOGNIZED(let raw): "role(\(raw))"
        }
    }

    static func provider(_ provider: Llmlab_V1_Provider) -> String {
        switch provider {
        case .openai: "openai"
        case .azureOpenai: "azure_openai"
        case .anthropic: "anthropic"
        case .gemini: "gemini"
        case .unspecified: none
        case .UNRECOGNIZED(let raw): "provider(\(raw))"
        }
    }

    /// An allow-list of providers; empty means every provider may be used.
    static func providers(_ providers: [Llmlab_V1_Provider]) -> String {
        providers.isEmpty ? "all" : providers.map(provider).joined(separator: ",")
    }

    static func tenantStatus(_ status: Llmlab_V1_TenantStatus) -> String {
        switch status {
        case .active: "active"
        case .suspended: "suspended"
        case .unspecified: none
        case .UNRECOGNIZED(let raw): "status(\(raw))"
        }
    }

    static func principalKind(_ kind: Llmlab_V1_PrincipalKind) -> String {
        switch kind {
        case .user: "user"
        case .apiKey: "api key"
        case .operator: "operator"
        case .unspecified: none
        case .UNRECOGNIZED(let raw): "kind(\(raw))"
        }
    }

    /// The server's exact decimal with a dollar sign, or `none` for no budget.
    static func usd(_ decimal: String) -> String {
        decimal.isEmpty ? "none" : "$\(decimal)"
    }

    static func text(_ value: String) -> String { value.isEmpty ? none : value }

    static func list(_ values: [String]) -> String { values.isEmpty ? none : values.joined(separator: ",") }
}
