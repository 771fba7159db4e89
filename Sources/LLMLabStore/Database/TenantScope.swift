public import Foundation

/// The PostgreSQL names that belong to one tenant, derived only from its id, so no
/// user-supplied text ever reaches an identifier: schema `t_<hex>` and role `llmlab_t_<hex>`,
/// where `<hex>` is the UUID's 32 lowercase hex digits.
public struct TenantScope: Sendable, Hashable, CustomStringConvertible {
    public let tenantID: UUID

    public init(tenantID: UUID) {
        self.tenantID = tenantID
    }

    /// Recovers the scope from a schema name this type produced; `nil` for anything else.
    public init?(schemaName: String) {
        guard schemaName.hasPrefix("t_") else { return nil }
        let hex = schemaName.dropFirst(2)
        guard hex.count == 32, hex.utf8.allSatisfy(Self.isLowercaseHexDigit) else { return nil }
        var text = ""
        for (offset, character) in hex.enumerated() {
            if [8, 12, 16, 20].contains(offset) { text.append("-") }
            text.append(character)
        }
        guard let id = UUID(uuidString: text) else { return nil }
        self.init(tenantID: id)
    }

    /// The 32 lowercase hex digits of the id.
    public var hex: String {
        let bytes = self.tenantID.uuid
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        withUnsafeBytes(of: bytes) { raw in
            for byte in raw {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `t_<hex>`: the tenant's schema.
    public var schemaName: String { "t_" + self.hex }

    /// `llmlab_t_<hex>`: the NOLOGIN role that owns the tenant's privileges.
    public var roleName: String { "llmlab_t_" + self.hex }

    /// The schema name as a quoted SQL identifier.
    var quotedSchema: String { "\"\(self.schemaName)\"" }

    /// The role name as a quoted SQL identifier.
    var quotedRole: String { "\"\(self.roleName)\"" }

    public var description: String { "tenant \(self.tenantID.uuidString.lowercased())" }

    private static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
