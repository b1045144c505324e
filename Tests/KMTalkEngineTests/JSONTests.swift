import Testing

@testable import KMTalkEngine

@Suite struct JSONTests {
    @Test func parsesAllValueKinds() throws {
        let value = try JSONParser.parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}} "#)
        #expect(value["a"]?.arrayValue?.count == 5)
        #expect(value["a"]?.arrayValue?[1].doubleValue == -2500)
        #expect(value["a"]?.arrayValue?[0].integerValue == 1)
        #expect(value["a"]?.arrayValue?[1].integerValue == nil)
        #expect(value["b"]?["c"]?.stringValue == "x\"\\/\u{08}\u{0C}\n\r\té😀")
    }

    @Test func keepsDuplicateKeysInOrder() throws {
        let value = try JSONParser.parse(#"{"k": 1, "k": 2}"#)
        #expect(value.objectValue?.map(\.key) == ["k", "k"])
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "tru", "[1 2]", "{} {}", "\"a\nb\"", "1e",
        String(repeating: "[", count: 1000),
    ])
    func rejectsInvalidText(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func integersBeyondDoublePrecisionStayExact() throws {
        #expect(try JSONParser.parse("9007199254740993").integerValue == 9_007_199_254_740_993)
    }
}
