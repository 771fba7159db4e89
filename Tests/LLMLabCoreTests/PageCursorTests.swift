import Foundation
import LLMLabCore
import Testing

@Suite("PageCursor")
struct PageCursorTests {
    @Test("round trips (time, id) keys at microsecond precision")
    func roundTrip() throws {
        let date = Date(timeIntervalSince1970: 1_764_000_000.123456)
        let id = UUID()
        let token = PageCursor.encode(date: date, id: id)
        let decoded = try #require(try PageCursor.decodeDateID(token))
        #expect(decoded.1 == id)
        #expect(abs(decoded.0.timeIntervalSince(date)) < 0.000_001)
    }

    @Test("an empty token is the first page; garbage is a field error")
    func garbage() throws {
        #expect(try PageCursor.decode("", expectedCount: 1) == nil)
        #expect(throws: ValidationError.self) { try PageCursor.decode("!!!", expectedCount: 1) }
        #expect(throws: ValidationError.self) { try PageCursor.decodeDateID(PageCursor.encode(["only-one"])) }
        #expect(throws: ValidationError.self) { try PageCursor.decodeDateID(PageCursor.encode(["x", "y"])) }
    }
}
