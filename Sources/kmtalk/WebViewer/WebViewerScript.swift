/// The web page's script and style, inlined by `WebViewerPage` so the page opens offline.
///
/// The script decodes the scene from `<script id="kmtalk-data">` (base64 typed arrays),
/// poses the mesh for the current frame (neutral + weight x each channel's sparse target),
/// and draws it with its own software renderer into a 2D canvas: the port of
/// `kmtalk preview`'s (`MeshRenderer`, `Rasterizer`, `CavityShading`: Lambert shading per
/// vertex, a z-buffer with back faces culled and the top-left fill rule, screen-space
/// darkening of cavities, gamma 2.2), so it needs no WebGL and renders the same headless.
/// The frame shown at time t is round(t x fps), clamped to the animation. The audio
/// element is the clock while playing; the scrubber, the curves (click or drag) and
/// `window.kmtalk.seek` set it. `#t=SECONDS` (or `?t=`) seeks on load and `#layout=head`
/// leaves only the head; every change writes the state as JSON into `#kmtalk-state`.
enum WebViewerScript {
    /// The curves drawn when the animation has them (ARKit names), with their colours; an
    /// animation with none of them shows its six most moving channels in these colours.
    static let curveChannels: [(name: String, colour: String)] = [
        ("jawOpen", "#f2b134"), ("mouthClose", "#e4572e"), ("mouthFunnel", "#4cb5ae"), ("mouthPucker", "#7b8cde"),
        ("mouthRollLower", "#b07bd6"), ("mouthRollUpper", "#d67bb0"), ("mouthSmileLeft", "#8ac926"),
        ("mouthStretchLeft", "#9aa5b1"),
    ]

    static let style = #"""
        :root { color-scheme: dark; }
        body { margin: 0; padding: 16px 20px; background: #14161c; color: #d8dce4;
               font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
        h1 { font-size: 17px; font-weight: 600; margin: 0 0 10px; }
        #kmtalk-main { display: flex; gap: 18px; align-items: flex-start; flex-wrap: wrap; }
        #kmtalk-head { background: #0e1014; border-radius: 6px; max-width: 100%; }
        #kmtalk-side { flex: 1; min-width: 320px; }
        #kmtalk-controls { display: flex; gap: 10px; align-items: center; margin: 0 0 10px; }
        #kmtalk-play { width: 84px; padding: 6px 0; font: inherit; color: #14161c; background: #f2b134;
                       border: 0; border-radius: 4px; cursor: pointer; }
        #kmtalk-scrub { flex: 1; }
        #kmtalk-time { font-variant-numeric: tabular-nums; min-width: 150px; text-align: right; }
        #kmtalk-curves { width: 100%; background: #0e1014; border-radius: 6px; cursor: crosshair; }
        #kmtalk-legend span { display: inline-block; margin: 4px 12px 0 0; cursor: pointer; user-select: none; }
        #kmtalk-legend span.off { opacity: 0.35; }
        #kmtalk-legend i { display: inline-block; width: 14px; height: 3px; margin: 0 5px 4px 0; vertical-align: middle; }
        #kmtalk-state { display: none; }
        body.show-state #kmtalk-state { display: block; font-size: 11px; color: #8a93a3; white-space: pre-wrap; word-break: break-all; max-height: 90px; overflow: auto; }
        footer { margin-top: 8px; font-size: 12px; color: #8a93a3; }
        body.head-only { padding: 0; background: #0e1014; }
        body.head-only > *:not(#kmtalk-main), body.head-only #kmtalk-side { display: none; }
        body.head-only #kmtalk-head { border-radius: 0; display: block; }
        """#

    static let script = #"""
        (function () {
        "use strict";
        const data = JSON.parse(document.getElementById("kmtalk-data").textContent);
        function bytes(text) {
          const raw = atob(text), out = new Uint8Array(raw.length);
          for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
          return out;
        }
        const floats = (text) => new Float32Array(bytes(text).buffer);
        const wide = data.indexBytes === 4;
        const ints = (text) => wide ? new Uint32Array(bytes(text).buffer) : new Uint16Array(bytes(text).buffer);
        const positions = floats(data.positions), weights = floats(data.weights), indices = ints(data.indices);
        const albedos = bytes(data.albedos);
        const targets = data.targets.map((t) => ({ channel: t.channel, scale: t.scale, vertices: ints(t.vertices),
                                                    deltas: new Int16Array(bytes(t.deltas).buffer) }));
        const C = data.channels.length, N = data.frameCount, fps = data.fps, V = positions.length / 3, S = data.size;
        const duration = Math.max(data.duration, N > 0 ? (N - 1) / fps : 0);
        const frameAt = (t) => Math.max(0, Math.min(N - 1, Math.round(t * fps)));

        // Camera: front orthographic, the neutral mesh's x-y box with a 6% margin (as preview).
        const low = [Infinity, Infinity, Infinity], high = [-Infinity, -Infinity, -Infinity];
        for (let v = 0; v < V; v++) for (let k = 0; k < 3; k++) {
          low[k] = Math.min(low[k], positions[3 * v + k]); high[k] = Math.max(high[k], positions[3 * v + k]);
        }
        const headSize = Math.max(high[0] - low[0], high[1] - low[1]);
        const centreX = (low[0] + high[0]) / 2, centreY = (low[1] + high[1]) / 2;
        const scale = S / (headSize * 1.12);
        const px = (x) => (x - centreX) * scale + S / 2, py = (y) => S / 2 - (y - centreY) * scale;

        // The mouth's box in canvas pixels: the vertices the lip targets move most, widened.
        const mouthBox = (function () {
          const names = ["mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper"];
          let chosen = targets.filter((t) => names.includes(data.channels[t.channel]));
          if (chosen.length === 0) chosen = targets.filter((t) => ["jawOpen", "mouthClose"].includes(data.channels[t.channel]));
          const motion = new Float32Array(V);
          for (const t of chosen) for (let i = 0; i < t.vertices.length; i++) {
            const d = t.deltas;
            motion[t.vertices[i]] += t.scale * Math.hypot(d[3 * i], d[3 * i + 1], d[3 * i + 2]);
          }
          let strongest = 0;
          for (let v = 0; v < V; v++) strongest = Math.max(strongest, motion[v]);
          if (!(strongest > 0)) return null;
          let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
          for (let v = 0; v < V; v++) if (motion[v] >= 0.35 * strongest) {
            x0 = Math.min(x0, px(positions[3 * v])); x1 = Math.max(x1, px(positions[3 * v]));
            y0 = Math.min(y0, py(positions[3 * v + 1])); y1 = Math.max(y1, py(positions[3 * v + 1]));
          }
          const w = x1 - x0, h = y1 - y0;
          return [Math.max(0, Math.floor(x0 - 0.15 * w)), Math.max(0, Math.floor(y0 - 0.2 * h)),
                  Math.min(S, Math.ceil(x1 + 0.15 * w)), Math.min(S, Math.ceil(y1 + 0.8 * h))];
        })();

        // The renderer: kmtalk preview's, in JavaScript.
        const canvas = document.getElementById("kmtalk-head");
        canvas.width = S; canvas.height = S;
        const context = canvas.getContext("2d");
        const image = context.createImageData(S, S);
        const posed = new Float32Array(3 * V), normals = new Float32Array(3 * V);
        const sx = new Float64Array(V), sy = new Float64Array(V), sz = new Float32Array(V);
        const sr = new Float32Array(V), sg = new Float32Array(V), sb = new Float32Array(V);
        const depth = new Float32Array(S * S), colour = new Float32Array(3 * S * S);
        const gamma = new Uint8Array(1024);
        for (let i = 0; i < 1024; i++) gamma[i] = Math.min(255, Math.round(Math.pow(i / 1023, 1 / 2.2) * 255));
        const background = [];
        for (let y = 0; y < S; y++) {
          const t = y / Math.max(1, S - 1);
          background.push([0.055 - 0.04 * t, 0.062 - 0.045 * t, 0.08 - 0.055 * t].map((c) => gamma[Math.round(c * 1023)]));
        }
        const lightLength = Math.hypot(-0.35, 0.45, 1.0);
        const light = [-0.35 / lightLength, 0.45 / lightLength, 1.0 / lightLength];
        // Cavity sampling: per direction, `steps` offsets (pixel index steps) and their
        // inverse world distances; `reach` is how far (pixels) the farthest sample goes.
        const cavity = (function () {
          const radius = 0.15 * headSize * scale, directions = 8, steps = 5;
          const dx = new Int32Array(directions * steps), dy = new Int32Array(directions * steps);
          const step = new Int32Array(directions * steps), inverse = new Float32Array(directions * steps);
          let reach = 0;
          for (let d = 0; d < directions; d++) {
            const angle = 2 * Math.PI * (d + 0.5) / directions;
            for (let s = 1; s <= steps; s++) {
              const along = radius * s / steps, k = d * steps + s - 1;
              dx[k] = Math.round(Math.cos(angle) * along); dy[k] = Math.round(Math.sin(angle) * along);
              step[k] = dy[k] * S + dx[k];
              inverse[k] = 1 / Math.max(Math.hypot(dx[k], dy[k]) / scale, 0.5 / scale);
              reach = Math.max(reach, Math.abs(dx[k]), Math.abs(dy[k]));
            }
          }
          return { radius, directions, steps, dx, dy, step, inverse, reach };
        })();

        function pose(frame) {
          posed.set(positions);
          for (const t of targets) {
            const w = weights[frame * C + t.channel];
            if (!w) continue;
            const k = w * t.scale, vs = t.vertices, d = t.deltas;
            for (let i = 0; i < vs.length; i++) {
              const o = 3 * vs[i];
              posed[o] += k * d[3 * i]; posed[o + 1] += k * d[3 * i + 1]; posed[o + 2] += k * d[3 * i + 2];
            }
          }
        }

        function shade() {
          normals.fill(0);
          for (let f = 0; f + 2 < indices.length; f += 3) {
            const i0 = 3 * indices[f], i1 = 3 * indices[f + 1], i2 = 3 * indices[f + 2];
            const ax = posed[i1] - posed[i0], ay = posed[i1 + 1] - posed[i0 + 1], az = posed[i1 + 2] - posed[i0 + 2];
            const bx = posed[i2] - posed[i0], by = posed[i2 + 1] - posed[i0 + 1], bz = posed[i2 + 2] - posed[i0 + 2];
            const cx = ay * bz - az * by, cy = az * bx - ax * bz, cz = ax * by - ay * bx;
            normals[i0] += cx; normals[i0 + 1] += cy; normals[i0 + 2] += cz;
            normals[i1] += cx; normals[i1 + 1] += cy; normals[i1 + 2] += cz;
            normals[i2] += cx; normals[i2 + 1] += cy; normals[i2 + 2] += cz;
          }
          for (let v = 0; v < V; v++) {
            let nx = normals[3 * v], ny = normals[3 * v + 1], nz = normals[3 * v + 2];
            const length = Math.hypot(nx, ny, nz);
            if (length > 0) { nx /= length; ny /= length; nz /= length; }
            const lambert = Math.max(0, nx * light[0] + ny * light[1] + nz * light[2]);
            const intensity = 0.06 + 0.72 * lambert + 0.22 * Math.max(0, nz);
            sr[v] = albedos[3 * v] / 255 * intensity; sg[v] = albedos[3 * v + 1] / 255 * intensity;
            sb[v] = albedos[3 * v + 2] / 255 * intensity;
            sx[v] = Math.round(px(posed[3 * v]) * 256) / 256; sy[v] = Math.round(py(posed[3 * v + 1]) * 256) / 256;
            sz[v] = -posed[3 * v + 2];
          }
        }

        function triangle(a, b, c) {
          let x0 = sx[a], y0 = sy[a], x1 = sx[b], y1 = sy[b], x2 = sx[c], y2 = sy[c];
          const area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0);
          if (!(area < 0)) return;  // back face (or degenerate): culled
          const minX = Math.max(0, Math.ceil(Math.min(x0, x1, x2) - 0.5)), maxX = Math.min(S - 1, Math.floor(Math.max(x0, x1, x2) - 0.5));
          const minY = Math.max(0, Math.ceil(Math.min(y0, y1, y2) - 0.5)), maxY = Math.min(S - 1, Math.floor(Math.max(y0, y1, y2) - 0.5));
          if (minX > maxX || minY > maxY) return;
          // Edge p -> q: (P - p) x (q - p), positive inside; top and left edges own their pixels.
          const d0x = y2 - y1, d0y = x2 - x1, d1x = y0 - y2, d1y = x0 - x2, d2x = y1 - y0, d2y = x1 - x0;
          const own0 = d0x > 0 || (d0x === 0 && d0y < 0), own1 = d1x > 0 || (d1x === 0 && d1y < 0), own2 = d2x > 0 || (d2x === 0 && d2y < 0);
          const inverse = 1 / -area;
          for (let y = minY; y <= maxY; y++) {
            const cy = y + 0.5, cx = minX + 0.5;
            let w0 = (cx - x1) * d0x - (cy - y1) * d0y, w1 = (cx - x2) * d1x - (cy - y2) * d1y, w2 = (cx - x0) * d2x - (cy - y0) * d2y;
            for (let x = minX; x <= maxX; x++, w0 += d0x, w1 += d1x, w2 += d2x) {
              if ((w0 > 0 || (w0 === 0 && own0)) && (w1 > 0 || (w1 === 0 && own1)) && (w2 > 0 || (w2 === 0 && own2))) {
                const b0 = w0 * inverse, b1 = w1 * inverse, b2 = w2 * inverse;
                const z = b0 * sz[a] + b1 * sz[b] + b2 * sz[c], p = y * S + x;
                if (z < depth[p]) {
                  depth[p] = z;
                  colour[3 * p] = b0 * sr[a] + b1 * sr[b] + b2 * sr[c];
                  colour[3 * p + 1] = b0 * sg[a] + b1 * sg[b] + b2 * sg[c];
                  colour[3 * p + 2] = b0 * sb[a] + b1 * sb[b] + b2 * sb[c];
                }
              }
            }
          }
        }

        function darkenCavities() {
          if (cavity.radius < 2) return;
          const { directions, steps, dx, dy, step, inverse, reach } = cavity;
          for (let y = 0; y < S; y++) {
            const rowInside = y >= reach && y < S - reach;
            for (let x = 0; x < S; x++) {
              const p = y * S + x, centre = depth[p];
              if (centre === Infinity) continue;
              const inside = rowInside && x >= reach && x < S - reach;
              let closed = 0;
              for (let d = 0; d < directions; d++) {
                let slope = -Infinity;
                for (let k = d * steps, end = k + steps; k < end; k++) {
                  if (!inside) {
                    const qx = x + dx[k], qy = y + dy[k];
                    if (qx < 0 || qx >= S || qy < 0 || qy >= S) break;
                  }
                  const other = depth[p + step[k]];
                  if (other === Infinity) continue;
                  const rise = (centre - other) * inverse[k];
                  if (rise > slope) slope = rise;
                }
                if (slope > 0.3) closed += slope >= 1 ? 1 : (slope - 0.3) / 0.7;
              }
              if (closed === 0) continue;
              const fraction = closed / directions, t = Math.min(1, Math.max(0, (fraction - 0.45) / 0.4));
              const factor = Math.max(0, 1 - 0.22 * fraction - 0.72 * t * t * (3 - 2 * t));
              colour[3 * p] *= factor; colour[3 * p + 1] *= factor; colour[3 * p + 2] *= factor;
            }
          }
        }

        function render(frame) {
          if (N > 0) pose(frame); else posed.set(positions);
          shade();
          depth.fill(Infinity);
          for (let f = 0; f + 2 < indices.length; f += 3) triangle(indices[f], indices[f + 1], indices[f + 2]);
          darkenCavities();
          const out = image.data;
          for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
            const p = y * S + x, o = 4 * p;
            if (depth[p] === Infinity) {
              const g = background[y]; out[o] = g[0]; out[o + 1] = g[1]; out[o + 2] = g[2];
            } else {
              for (let k = 0; k < 3; k++) out[o + k] = gamma[Math.round(Math.min(1, Math.max(0, colour[3 * p + k])) * 1023)];
            }
            out[o + 3] = 255;
          }
          context.putImageData(image, 0, 0);
        }

        // The curves: the main mouth channels over the whole clip, a cursor at the time.
        const curves = document.getElementById("kmtalk-curves");
        let plotted = data.curves.filter((c) => data.channels.includes(c.name))
          .map((c) => ({ name: c.name, colour: c.colour, index: data.channels.indexOf(c.name), on: true }));
        if (plotted.length === 0) {
          // A rig's own channel names: the six that move most, in the same colours.
          const range = (c) => { let lo = Infinity, hi = -Infinity;
            for (let f = 0; f < N; f++) { lo = Math.min(lo, weights[f * C + c]); hi = Math.max(hi, weights[f * C + c]); }
            return hi - lo; };
          plotted = data.channels.map((name, index) => ({ name, index, spread: range(index) }))
            .sort((a, b) => b.spread - a.spread).slice(0, 6)
            .map((c, k) => ({ name: c.name, colour: data.curves[k].colour, index: c.index, on: true }));
        }
        const legend = document.getElementById("kmtalk-legend");
        for (const c of plotted) {
          const item = document.createElement("span");
          item.innerHTML = `<i style="background:${c.colour}"></i>`;
          item.appendChild(document.createTextNode(c.name));
          item.addEventListener("click", () => { c.on = !c.on; item.classList.toggle("off", !c.on); drawCurves(); update(true); });
          legend.appendChild(item);
        }
        const plot = { left: 36, right: 10, top: 10, bottom: 22 };
        let curvesBase = null;
        const timeX = (t) => plot.left + (curves.width - plot.left - plot.right) * (duration > 0 ? t / duration : 0);
        function drawCurves() {
          const ratio = window.devicePixelRatio || 1, cssWidth = Math.max(320, curves.clientWidth || 640);
          curves.width = Math.round(cssWidth * ratio); curves.height = Math.round(220 * ratio);
          curves.style.height = "220px";
          const g = curves.getContext("2d"), w = curves.width, h = curves.height;
          plot.left = 36 * ratio; plot.right = 10 * ratio; plot.top = 10 * ratio; plot.bottom = 22 * ratio;
          const valueY = (v) => h - plot.bottom - (h - plot.top - plot.bottom) * Math.max(0, Math.min(1, v));
          g.fillStyle = "#0e1014"; g.fillRect(0, 0, w, h);
          g.font = `${11 * ratio}px system-ui, sans-serif`; g.fillStyle = "#8a93a3"; g.strokeStyle = "#262a33"; g.lineWidth = ratio;
          for (const v of [0, 0.25, 0.5, 0.75, 1]) {
            g.beginPath(); g.moveTo(plot.left, valueY(v)); g.lineTo(w - plot.right, valueY(v)); g.stroke();
            g.fillText(v.toFixed(2), 2 * ratio, valueY(v) + 4 * ratio);
          }
          const step = duration > 20 ? 5 : duration > 8 ? 2 : duration > 3 ? 0.5 : 0.25;
          for (let t = 0; t <= duration + 1e-9; t += step) {
            g.beginPath(); g.moveTo(timeX(t), plot.top); g.lineTo(timeX(t), h - plot.bottom); g.stroke();
            g.fillText(`${+t.toFixed(2)} s`, timeX(t) + 3 * ratio, h - 6 * ratio);
          }
          g.lineWidth = 1.6 * ratio;
          for (const c of plotted) {
            if (!c.on) continue;
            g.strokeStyle = c.colour; g.beginPath();
            for (let f = 0; f < N; f++) {
              const x = timeX(f / fps), y = valueY(weights[f * C + c.index]);
              if (f === 0) g.moveTo(x, y); else g.lineTo(x, y);
            }
            g.stroke();
          }
          curvesBase = g.getImageData(0, 0, w, h);
        }
        function drawCursor() {
          if (!curvesBase) return;
          const g = curves.getContext("2d");
          g.putImageData(curvesBase, 0, 0);
          const x = timeX(time);
          g.strokeStyle = "#ffffff"; g.lineWidth = Math.max(1, window.devicePixelRatio || 1);
          g.beginPath(); g.moveTo(x, plot.top); g.lineTo(x, curves.height - plot.bottom); g.stroke();
        }

        // Playback, seeking and the state the test hook reads.
        const audio = document.getElementById("kmtalk-audio");
        const button = document.getElementById("kmtalk-play"), scrub = document.getElementById("kmtalk-scrub");
        const label = document.getElementById("kmtalk-time"), state = document.getElementById("kmtalk-state");
        scrub.max = String(duration);
        let time = 0, playing = false, shown = -1, renderMs = 0;
        function weightsAt(frame) {
          const out = {};
          if (N > 0) for (let c = 0; c < C; c++) out[data.channels[c]] = weights[frame * C + c];
          return out;
        }
        function writeState() {
          state.textContent = JSON.stringify({ time, frame: shown, fps, frameCount: N, duration, size: S,
                                               mouthBox, renderMs: Math.round(renderMs * 10) / 10, weights: weightsAt(shown) });
        }
        function update(force) {
          const frame = frameAt(time);
          if (force || frame !== shown) {
            const began = performance.now();
            shown = frame; render(frame);
            renderMs = performance.now() - began;
            writeState();
          }
          scrub.value = String(time);
          label.textContent = `${time.toFixed(2)} / ${duration.toFixed(2)} s \u00b7 frame ${shown}`;
          drawCursor();
        }
        function seek(t) {
          time = Math.max(0, Math.min(duration, Number(t) || 0));
          try { audio.currentTime = time; } catch (e) { /* before metadata: playback starts from `time` below */ }
          update(false);
        }
        function tick() {
          if (!playing) return;
          time = Math.min(duration, audio.currentTime);
          update(false);
          requestAnimationFrame(tick);
        }
        function play() {
          if (time >= duration - 1e-3) seek(0);
          if (Math.abs(audio.currentTime - time) > 0.01) audio.currentTime = time;
          return audio.play().then(() => { playing = true; button.textContent = "Pause"; tick(); },
                                   (e) => { label.textContent = `cannot play: ${e.message}`; });
        }
        function pause() { audio.pause(); }
        audio.addEventListener("pause", () => { playing = false; button.textContent = "Play"; time = Math.min(duration, audio.currentTime); update(false); });
        audio.addEventListener("ended", () => { playing = false; button.textContent = "Play"; });
        button.addEventListener("click", () => (playing ? pause() : play()));
        scrub.addEventListener("input", () => seek(scrub.value));
        document.addEventListener("keydown", (e) => {
          if (e.target === scrub && e.key !== " ") return;
          if (e.key === " ") { e.preventDefault(); playing ? pause() : play(); }
          else if (e.key === "ArrowLeft") seek(time - 1 / fps);
          else if (e.key === "ArrowRight") seek(time + 1 / fps);
        });
        function seekFromCurves(e) {
          const r = curves.getBoundingClientRect(), ratio = curves.width / Math.max(1, r.width);
          const x = (e.clientX - r.left) * ratio;
          seek(duration * (x - plot.left) / Math.max(1, curves.width - plot.left - plot.right));
        }
        curves.addEventListener("pointerdown", (e) => { curves.setPointerCapture(e.pointerId); seekFromCurves(e); });
        curves.addEventListener("pointermove", (e) => { if (e.buttons) seekFromCurves(e); });
        window.addEventListener("resize", () => { drawCurves(); drawCursor(); });

        function applyLocation() {
          const hash = new URLSearchParams(location.hash.replace(/^#/, "")), query = new URLSearchParams(location.search);
          const layout = hash.get("layout") || query.get("layout"), t = hash.get("t") ?? query.get("t");
          document.body.classList.toggle("head-only", layout === "head");
          document.body.classList.toggle("show-state", hash.has("state") || query.has("state"));
          if (t !== null) seek(parseFloat(t));
        }
        window.kmtalk = {
          seek(t) { seek(t); return shown; },
          weights(t) { return weightsAt(t === undefined ? shown : frameAt(Number(t))); },
          frame() { return shown; },
          time() { return time; },
          play, pause,
          channels: data.channels.slice(), fps, frameCount: N, duration,
        };
        window.addEventListener("hashchange", applyLocation);
        drawCurves();
        update(true);
        applyLocation();
        })();
        """#
}
