import Foundation
import GRPCCore
import LLMLabBilling
import LLMLabCore
import LLMLabProto

/// Checks for billing input; each failure names the wire field.
enum BillingValidation {
    static let maximumDays = 366
    static let maximumImportBytes = 16 << 20

    static func kind(_ value: Llmlab_V1_BillingConnectionKind) throws -> BillingConnectionKind {
        switch value {
        case .openai: return .openai
        case .anthropic: return .anthropic
        case .azure: return .azure
        default:
            throw APIError(.invalidArgument, "kind: send BILLING_CONNECTION_KIND_OPENAI, BILLING_CONNECTION_KIND_ANTHROPIC or BILLING_CONNECTION_KIND_AZURE")
        }
    }

    static func schedule(_ value: Llmlab_V1_BillingSchedule) throws -> String {
        switch value {
        case .unspecified, .daily: return "daily"
        case .hourly: return "hourly"
        default: throw APIError(.invalidArgument, "schedule: send BILLING_SCHEDULE_DAILY or BILLING_SCHEDULE_HOURLY")
        }
    }

    /// The admin key or client secret: required, printable, no spaces, at most 4096 bytes.
    static func credential(_ value: String) throws -> String {
        guard !value.isEmpty else { throw APIError(.invalidArgument, "credential: required (the provider's admin key or client secret)") }
        guard value.utf8.count <= 4096 else { throw APIError(.invalidArgument, "credential: at most 4096 bytes") }
        guard value.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw APIError(.invalidArgument, "credential: must not contain spaces or control characters")
        }
        guard value.count >= 8 else { throw APIError(.invalidArgument, "credential: too short to be an admin key or client secret") }
        return value
    }

    /// Only the settings the kind knows, the required ones present, values bounded and
    /// URLs absolute http(s).
    static func settings(_ value: [String: String], kind: BillingConnectionKind, allowCustomEndpoints: Bool) throws -> [String: String] {
        var result: [String: String] = [:]
        for (key, raw) in value {
            guard kind.allowedSettings.contains(key) else {
                let allowed = kind.allowedSettings.sorted().joined(separator: ", ")
                throw APIError(.invalidArgument, "settings: \(kind.rawValue) connections do not take \"\(key)\" (allowed: \(allowed))")
            }
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            guard trimmed.count <= 500, !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw APIError(.invalidArgument, "settings.\(key): at most 500 characters, no control characters")
            }
            if key.hasSuffix("_url"), !trimmed.isEmpty {
                guard allowCustomEndpoints else {
                    throw APIError(.invalidArgument, "settings.\(key): " + customEndpointRefusal(key))
                }
                result[key] = try AlertValidation.webhookURL(trimmed, field: "settings.\(key)")
            } else if !trimmed.isEmpty {
                result[key] = trimmed
            }
        }
        for required in kind.requiredSettings.sorted() where result[required] == nil {
            throw APIError(.invalidArgument, "settings.\(required): required for \(kind.rawValue) connections")
        }
        return result
    }

    /// Why a custom endpoint is refused, and how the operator allows it.
    static func customEndpointRefusal(_ key: String) -> String {
        "custom billing endpoints (\(key)) are disabled on this server, which calls only the providers' own APIs; "
            + "an operator can allow them with llmlab-server --billing-allow-custom-endpoints"
    }

    /// A UTC day, YYYY-MM-DD.
    static func day(_ value: String, field: String) throws -> BillingDay {
        guard !value.isEmpty else { throw APIError(.invalidArgument, "\(field): required, a UTC day like 2026-03-01") }
        guard value.utf8.count == 10, let day = BillingDay.parse(value) else {
            throw APIError(.invalidArgument, "\(field): \"\(value.prefix(40))\" is not a YYYY-MM-DD day")
        }
        return day
    }

    /// `[from, to]`; when both are empty, the `defaultDays` days up to today.
    static func period(from: String, to: String, defaultDays: Int? = nil, now: Date = Date()) throws -> BillingPeriod {
        if from.isEmpty, to.isEmpty, let defaultDays {
            let today = BillingDay(containing: now)
            return BillingPeriod(first: today.adding(days: -(defaultDays - 1)), last: today)
        }
        let first = try day(from, field: "from_date")
        let last = try day(to, field: "to_date")
        guard first <= last else { throw APIError(.invalidArgument, "to_date: must not be before from_date") }
        guard last.ordinal - first.ordinal < maximumDays else {
            throw APIError(.invalidArgument, "to_date: a range covers at most \(maximumDays) days")
        }
        return BillingPeriod(first: first, last: last)
    }

    static let providers: Set<String> = ["openai", "anthropic", "azure_openai", "gemini"]

    static func provider(_ value: String) throws -> String? {
        let trimmed = value.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.isEmpty { return nil }
        guard providers.contains(trimmed) else {
            throw APIError(.invalidArgument, "provider: \"\(value.prefix(40))\" is not one of \(providers.sorted().joined(separator: ", "))")
        }
        return trimmed
    }
}
