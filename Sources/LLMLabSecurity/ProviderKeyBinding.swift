public import Foundation

/// The associated data that binds a sealed provider key to its tenant and its row: a
/// ciphertext copied to another row or tenant does not open. Sealing (control API) and
/// opening (proxy) must use exactly this string, so it lives in one place.
public enum ProviderKeyBinding {
    public static func associatedData(tenantID: UUID, keyID: UUID) -> String {
        "tenant:\(tenantID.uuidString.lowercased())/key:\(keyID.uuidString.lowercased())"
    }
}
