// SPDX-License-Identifier: MIT
using System;
using System.Collections.Generic;
using UnityEngine;

namespace KMTalk.Unity
{
    /// <summary>
    /// Which blendshape of a SkinnedMeshRenderer's mesh each model channel drives, found once
    /// by the library's own name matching (<see cref="Animation.MatchShapeNames"/> /
    /// <see cref="Model.MatchShapeNames"/>: jawOpen, JawOpen, jaw_open, blendShape1.jawOpen,
    /// split _L/_R halves all match), and the writing of frames as weights. Unity's blendshape
    /// weights run 0..100, the model's 0..1: weights are multiplied by the scale (100).
    /// Main thread only, as Unity's renderer calls are.
    /// </summary>
    public sealed class BlendShapeBinding
    {
        private readonly SkinnedMeshRenderer renderer;
        private readonly int[] shapeToChannel;

        /// <summary>The mesh's blendshape names, in index order.</summary>
        public static string[] ShapeNames(SkinnedMeshRenderer renderer)
        {
            if (renderer == null || renderer.sharedMesh == null) return new string[0];
            Mesh mesh = renderer.sharedMesh;
            var names = new string[mesh.blendShapeCount];
            for (int i = 0; i < names.Length; i++) names[i] = mesh.GetBlendShapeName(i);
            return names;
        }

        /// <summary>A binding from the matching result: per blendshape, its channel or -1.</summary>
        public BlendShapeBinding(SkinnedMeshRenderer renderer, int[] shapeToChannel)
        {
            if (renderer == null) throw new ArgumentNullException("renderer");
            if (shapeToChannel == null) throw new ArgumentNullException("shapeToChannel");
            this.renderer = renderer;
            this.shapeToChannel = (int[])shapeToChannel.Clone();
        }

        /// <summary>Per blendshape index, the channel that drives it, or -1.</summary>
        public IReadOnlyList<int> ShapeToChannel { get { return shapeToChannel; } }

        /// <summary>How many of the mesh's blendshapes a channel drives.</summary>
        public int DrivenCount
        {
            get
            {
                int n = 0;
                foreach (int c in shapeToChannel) if (c >= 0) n++;
                return n;
            }
        }

        /// <summary>Sets every driven blendshape from the frame at <paramref name="offset"/>
        /// of <paramref name="frames"/>, times <paramref name="scale"/>.</summary>
        public void Apply(float[] frames, int offset, float scale)
        {
            for (int shape = 0; shape < shapeToChannel.Length; shape++)
            {
                int channel = shapeToChannel[shape];
                if (channel >= 0) renderer.SetBlendShapeWeight(shape, frames[offset + channel] * scale);
            }
        }

        /// <summary>Sets every driven blendshape to the linear blend of two frames
        /// (<paramref name="t"/> 0: the first, 1: the second), times <paramref name="scale"/>.</summary>
        public void Apply(float[] frames, int offsetA, int offsetB, float t, float scale)
        {
            for (int shape = 0; shape < shapeToChannel.Length; shape++)
            {
                int channel = shapeToChannel[shape];
                if (channel < 0) continue;
                float a = frames[offsetA + channel], b = frames[offsetB + channel];
                renderer.SetBlendShapeWeight(shape, (a + (b - a) * t) * scale);
            }
        }

        /// <summary>Sets every driven blendshape to 0 (the rest pose).</summary>
        public void Clear()
        {
            for (int shape = 0; shape < shapeToChannel.Length; shape++)
                if (shapeToChannel[shape] >= 0) renderer.SetBlendShapeWeight(shape, 0f);
        }
    }
}
