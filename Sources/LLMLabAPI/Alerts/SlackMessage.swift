import Foundation
import LLMLabCore

/// The body for a Slack-compatible incoming webhook: `{"text": "…"}` with one readable line
/// made from the alert's JSON payload (`event`, `data`), e.g. "LLMLab budget alert: project
/// 'Search bot' reached 80% of its monthly budget ($80.00 of $100.00)".
enum SlackMessage {
    static func body(forPayload payload: String, event: String) -> [UInt8] {
        Array("{\"text\":\(JSONString.quoted(text(forPayload: payload, event: event)))}".utf8)
    }

    static func text(forPayload payload: String, event: String) -> String {
        let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any]
        let data = object?["data"] as? [String: Any] ?? [:]
        func value(_ key: String) -> String? { (data[key] as? String).flatMap { $0.isEmpty ? nil : $0 } }
        switch event {
        case "budget_threshold":
            let subject = value("subject_name").map { "'\($0)'" } ?? value("subject_id") ?? "a budget"
            let kind = value("subject_kind") ?? "budget"
            let percent = value("threshold_pct").map { "\($0)%" } ?? "a threshold"
            var line = "LLMLab budget alert: \(kind) \(subject) reached \(percent) of its monthly budget"
            if let spent = value("spent_usd"), let limit = value("limit_usd") { line += " ($\(spent) of $\(limit))" }
            return line
        case "budget_forecast":
            let subject = value("subject_name").map { "'\($0)'" } ?? value("subject_id") ?? "a budget"
            let kind = value("subject_kind") ?? "budget"
            var line = "LLMLab budget forecast: \(kind) \(subject) is projected to exceed its monthly budget this month"
            if let projected = value("projected_usd"), let limit = value("limit_usd") { line += " ($\(projected) projected, budget $\(limit))" }
            return line
        case "cost_spike":
            let subject = value("subject_name").map { "'\($0)'" } ?? value("subject_id") ?? "a subject"
            let kind = value("subject_kind") ?? "project"
            var line = "LLMLab cost spike: \(kind) \(subject) spent"
            if let cost = value("last_hour_cost_usd") { line += " $\(cost)" }
            line += " in the last 60 minutes"
            if let baseline = value("baseline_hourly_usd"), let factor = value("spike_factor") {
                line += ", more than \(factor)× its mean hourly spend of $\(baseline) over the previous 7 days"
            }
            return line
        case "test":
            return "LLMLab test alert: this channel receives LLMLab alerts."
        default:
            let details = data.keys.sorted().compactMap { key in value(key).map { "\(key)=\($0)" } }.joined(separator: ", ")
            return "LLMLab alert (\(event))" + (details.isEmpty ? "" : ": \(details)")
        }
    }
}
