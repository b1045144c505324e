import Foundation

/// Builds the one self-contained HTML page `kmtalk view` writes: the scene as JSON with
/// base64 typed arrays in `<script type="application/json" id="kmtalk-data">`, the audio as
/// a `data:audio/wav;base64,` URL, and `WebViewerScript`'s style and script inline. Nothing
/// is fetched, so the page opens from `file://` without a network.
///
/// Typed arrays are little-endian: positions and weights float32, triangle and target
/// vertex indices uint16 when the mesh has at most 65536 vertices (else uint32, the
/// `indexBytes` field), target deltas int16 (x `scale`), albedos uint8.
enum WebViewerPage {
    /// The page for `scene`, its head drawn on a `size` x `size` canvas.
    static func html(_ scene: WebViewerScene, size: Int) -> String {
        let wide = scene.vertexCount > 65536
        func indexBase64(_ values: [UInt32]) -> String {
            wide ? base64(values) : base64(values.map { UInt16(truncatingIfNeeded: $0) })
        }
        var json = "{\"version\":1"
        json += ",\"title\":" + jsonString(scene.title)
        json += ",\"fps\":\(scene.fps),\"frameCount\":\(scene.frameCount),\"duration\":\(scene.audioSeconds),\"size\":\(size)"
        json += ",\"channels\":[" + scene.channels.map(jsonString).joined(separator: ",") + "]"
        json += ",\"curves\":[" + WebViewerScript.curveChannels.map {
            "{\"name\":\(jsonString($0.name)),\"colour\":\(jsonString($0.colour))}"
        }.joined(separator: ",") + "]"
        json += ",\"indexBytes\":\(wide ? 4 : 2)"
        json += ",\"weights\":\"\(base64(scene.weights))\""
        json += ",\"positions\":\"\(base64(scene.positions))\""
        json += ",\"indices\":\"\(indexBase64(scene.indices))\""
        json += ",\"albedos\":\"\(base64(scene.albedos))\""
        json += ",\"targets\":[" + scene.targets.map { target in
            "{\"channel\":\(target.channel),\"scale\":\(target.scale),\"vertices\":\"\(indexBase64(target.vertices))\",\"deltas\":\"\(base64(target.deltas))\"}"
        }.joined(separator: ",") + "]}"

        let footer = scene.details.sorted { $0.key < $1.key }.map { "\(escape($0.key)): \(escape($0.value))" }
            .joined(separator: " &middot; ")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="kmtalk view">
            <title>\(escape(scene.title)) &middot; KMTalk</title>
            <style>
            \(WebViewerScript.style)
            </style>
            </head>
            <body>
            <h1>\(escape(scene.title))</h1>
            <div id="kmtalk-main">
            <canvas id="kmtalk-head" width="\(size)" height="\(size)" style="width:\(size)px"></canvas>
            <div id="kmtalk-side">
            <div id="kmtalk-controls">
            <button id="kmtalk-play" type="button">Play</button>
            <input id="kmtalk-scrub" type="range" min="0" max="1" step="any" value="0" aria-label="time">
            <span id="kmtalk-time"></span>
            </div>
            <canvas id="kmtalk-curves" height="220"></canvas>
            <div id="kmtalk-legend"></div>
            <footer>\(scene.frameCount) frames at \(String(format: "%g", scene.fps)) fps, \(scene.channels.count) channels, \(scene.vertexCount) vertices &middot; \(footer)</footer>
            </div>
            </div>
            <pre id="kmtalk-state"></pre>
            <audio id="kmtalk-audio" preload="auto" src="data:audio/wav;base64,\(Data(scene.audio).base64EncodedString())"></audio>
            <script type="application/json" id="kmtalk-data">\(json)</script>
            <script>
            \(WebViewerScript.script)
            </script>
            </body>
            </html>

            """
    }

    /// The little-endian bytes of `values` in base64.
    static func base64<T>(_ values: [T]) -> String {
        values.withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// `text` as a JSON string that is also safe inside a `<script>` element (`<` escaped).
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "<", ">", "&": out += String(format: "\\u%04x", scalar.value)
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `text` escaped for HTML element content and attribute values.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
