import Foundation

/// The email for an alert delivery: the readable line as the subject and first paragraph,
/// then every figure of the payload's `data` as `key: value` lines (exact decimals, as
/// stored), so a human reads it at a glance and a filter can still match on fields.
enum AlertEmail {
    static func message(payload: String, event: String, deliveryID: UUID, from: String, to: [String], date: Date) -> EmailMessage {
        let line = SlackMessage.text(forPayload: payload, event: event)
        let object = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any]
        let data = object?["data"] as? [String: Any] ?? [:]
        var body = line + "\n\n"
        for key in data.keys.sorted() {
            guard let value = data[key] as? String, !value.isEmpty else { continue }
            body += "\(key): \(value)\n"
        }
        body += "\nevent: \(event)\ndelivery: \(deliveryID.uuidString.lowercased())\n"
        if let tenant = object?["tenant_id"] as? String { body += "tenant: \(tenant)\n" }
        let domain = from.split(separator: "@").last.map(String.init) ?? "llmlab"
        return EmailMessage(
            from: from, to: to, subject: String(line.prefix(200)), body: body,
            messageID: "\(deliveryID.uuidString.lowercased())@\(domain)", date: date,
            extraHeaders: [("X-LLMLab-Event", event), ("X-LLMLab-Delivery", deliveryID.uuidString.lowercased())])
    }
}
