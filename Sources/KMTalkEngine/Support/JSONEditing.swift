/// Building and editing parsed JSON values (the glTF document of a user's asset).
extension JSONValue {
    /// An integer number.
    static func integer(_ value: Int) -> JSONValue { .number(Double(value), literal: String(value)) }

    /// A float32 number written so that it reads back exactly.
    static func float(_ value: Float) -> JSONValue {
        .number(Double(value), literal: value == 0 ? "0" : Double(value).description)
    }

    /// This object with member `key` set to `value` (replaced in place, or appended).
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard var members = objectValue else { return self }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append((key, value))
        }
        return .object(members)
    }
}
