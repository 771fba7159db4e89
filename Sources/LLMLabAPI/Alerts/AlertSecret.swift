public import Foundation
import Crypto

/// Webhook signing secrets and signatures.
public enum AlertSecret {
    /// `whsec_` + 32 random bytes, base64url without padding.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "whsec_" + base64
    }

    /// Binds a sealed channel secret to its tenant and channel row.
    public static func associatedData(tenantID: UUID, channelID: UUID) -> String {
        "tenant:\(tenantID.uuidString.lowercased())/alert_channel:\(channelID.uuidString.lowercased())"
    }

    /// The `x-llmlab-signature` value: `sha256=` + hex HMAC-SHA256 of `body` under the
    /// secret's UTF-8 bytes (the whole `whsec_…` string is the key).
    public static func signature(secret: String, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return "sha256=" + mac.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// The JSON body every delivery POSTs: an envelope naming the event, plus its data.
struct AlertPayload: Encodable {
    var event: String
    var deliveryID: UUID
    var tenantID: UUID
    var occurredAt: Date
    var data: [String: String]

    enum CodingKeys: String, CodingKey {
        case event
        case deliveryID = "delivery_id"
        case tenantID = "tenant_id"
        case occurredAt = "occurred_at"
        case data
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(event, forKey: .event)
        try container.encode(deliveryID.uuidString.lowercased(), forKey: .deliveryID)
        try container.encode(tenantID.uuidString.lowercased(), forKey: .tenantID)
        try container.encode(occurredAt, forKey: .occurredAt)
        try container.encode(data, forKey: .data)
    }

    static func json(_ payload: AlertPayload) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(payload), as: UTF8.self)
    }
}
