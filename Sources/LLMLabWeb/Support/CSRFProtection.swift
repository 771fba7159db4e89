import Crypto
import Foundation

/// Cross-site request forgery tokens. A signed-in form carries
/// HMAC-SHA256(key, session token): it cannot be computed without the session cookie
/// (HttpOnly) and this process's random key, and it is bound to the session, so a token
/// from another session is worthless. The login form has no session yet: it uses a
/// double-submit cookie (a random value in an HttpOnly cookie and the same value in the
/// form), which a cross-site page can neither read nor set. A restart changes the key;
/// an open form then fails once with the 403 page and works after a reload.
struct CSRFProtection: Sendable {
    /// Raw bytes (SymmetricKey is not Sendable); a fresh key per process by default.
    private let keyBytes: [UInt8]

    init(keyBytes: [UInt8]? = nil) {
        self.keyBytes = keyBytes ?? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    /// The token every form of this session carries.
    func token(forSession session: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("llmlab-ui-csrf:" + session).utf8), using: SymmetricKey(data: keyBytes))
        return Self.base64URL(Data(mac))
    }

    /// Whether `presented` is this session's token (constant time).
    func verify(_ presented: String?, session: String) -> Bool {
        guard let presented, !presented.isEmpty else { return false }
        return Self.constantTimeEqual(presented, token(forSession: session))
    }

    /// Whether the login form's field matches its cookie (constant time).
    static func verifyDoubleSubmit(field: String?, cookie: String?) -> Bool {
        guard let field, let cookie, field.utf8.count >= 32 else { return false }
        return constantTimeEqual(field, cookie)
    }

    /// A fresh random value for the login cookie: 256 bits, base64url.
    static func randomValue() -> String {
        base64URL(Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
