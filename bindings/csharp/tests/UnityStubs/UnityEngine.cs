// SPDX-License-Identifier: MIT
// A STUB of the few UnityEngine types the KMTalk Unity components use -- NOT Unity.
//
// Unity is not available on the test machine. scripts/test-csharp.sh compiles this file into
// a stand-in UnityEngine.dll so that bindings/csharp/Unity/Runtime/Components/*.cs compile
// with mcs (-warnaserror) against the member signatures they call, as documented in Unity's
// scripting reference (2021.2 and later), and so that UnityComponentTests.cs can drive the
// components' logic on mono (the offline animator's frame lookup and x100 weights, the
// streaming animator's audio-thread queue). Members marked "stub only" do not exist in Unity.
// Nothing here is shipped in the package.
using System;
using System.Collections.Generic;

namespace UnityEngine
{
    public class Object
    {
        public string name = "";
        public static implicit operator bool(Object o) { return !ReferenceEquals(o, null); }
    }

    public class GameObject : Object
    {
        private readonly List<Component> components = new List<Component>();

        public GameObject() { }
        public GameObject(string name) { this.name = name; }

        public T AddComponent<T>() where T : Component, new()
        {
            var component = new T();
            component.gameObject = this;
            components.Add(component);
            return component;
        }

        public T GetComponent<T>() where T : class
        {
            foreach (Component c in components)
                if (c is T) return c as T;
            return null;
        }
    }

    public class Component : Object
    {
        public GameObject gameObject;
        public T GetComponent<T>() where T : class { return gameObject == null ? null : gameObject.GetComponent<T>(); }
    }

    public class Behaviour : Component
    {
        public bool enabled = true;
        public bool isActiveAndEnabled { get { return enabled; } }
    }

    public class MonoBehaviour : Behaviour { }

    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
    }

    public sealed class Mesh : Object
    {
        private readonly List<string> shapes = new List<string>();
        public int blendShapeCount { get { return shapes.Count; } }
        public string GetBlendShapeName(int shapeIndex) { return shapes[shapeIndex]; }
        public int GetBlendShapeIndex(string blendShapeName) { return shapes.IndexOf(blendShapeName); }
        public void AddBlendShapeFrame(string shapeName, float frameWeight, Vector3[] deltaVertices, Vector3[] deltaNormals, Vector3[] deltaTangents)
        {
            if (!shapes.Contains(shapeName)) shapes.Add(shapeName);
        }
    }

    public class Renderer : Component { }

    public sealed class SkinnedMeshRenderer : Renderer
    {
        private readonly Dictionary<int, float> weights = new Dictionary<int, float>();
        public Mesh sharedMesh;
        public int SetCalls;  // stub only: how many times SetBlendShapeWeight ran

        public void SetBlendShapeWeight(int index, float value)
        {
            if (sharedMesh == null || index < 0 || index >= sharedMesh.blendShapeCount)
                throw new ArgumentOutOfRangeException("index");
            weights[index] = value;
            SetCalls++;
        }

        public float GetBlendShapeWeight(int index)
        {
            float w;
            return weights.TryGetValue(index, out w) ? w : 0f;
        }
    }

    public enum AudioDataLoadState { Unloaded, Loading, Loaded, Failed }

    public sealed class AudioClip : Object
    {
        private float[] data = new float[0];
        public int samples { get; private set; }
        public int channels { get; private set; }
        public int frequency { get; private set; }
        public float length { get { return frequency == 0 ? 0 : (float)samples / frequency; } }
        public AudioDataLoadState loadState { get { return AudioDataLoadState.Loaded; } }
        public bool LoadAudioData() { return true; }

        public static AudioClip Create(string name, int lengthSamples, int channels, int frequency, bool stream)
        {
            return new AudioClip { name = name, samples = lengthSamples, channels = channels, frequency = frequency, data = new float[lengthSamples * channels] };
        }

        public bool SetData(float[] data, int offsetSamples)
        {
            Array.Copy(data, 0, this.data, offsetSamples * channels, Math.Min(data.Length, this.data.Length - offsetSamples * channels));
            return true;
        }

        public bool GetData(float[] data, int offsetSamples)
        {
            Array.Copy(this.data, offsetSamples * channels, data, 0, Math.Min(data.Length, this.data.Length - offsetSamples * channels));
            return true;
        }
    }

    public sealed class AudioSource : Behaviour
    {
        public AudioClip clip;
        public float time { get; set; }          // Unity: the playback position in seconds
        public bool isPlaying { get; private set; }
        public void Play() { isPlaying = true; }
        public void Stop() { isPlaying = false; time = 0; }
        public void SetPlayingForTests(bool playing) { isPlaying = playing; }  // stub only
    }

    public sealed class AudioSettings
    {
        public static int outputSampleRate { get; set; }  // Unity: get only (stub: settable)
        static AudioSettings() { outputSampleRate = 48000; }
    }

    public sealed class TextAsset : Object
    {
        private readonly byte[] content;
        public TextAsset() { content = new byte[0]; }
        public TextAsset(byte[] bytes) { content = bytes; }  // stub only
        public byte[] bytes { get { return content; } }
    }

    public static class Application
    {
        public static string streamingAssetsPath = "Assets/StreamingAssets";  // Unity: get only
    }

    public static class Debug
    {
        public static readonly List<string> Messages = new List<string>();  // stub only
        public static void Log(object message) { Messages.Add("log: " + message); }
        public static void Log(object message, Object context) { Log(message); }
        public static void LogWarning(object message) { Messages.Add("warning: " + message); }
        public static void LogWarning(object message, Object context) { LogWarning(message); }
        public static void LogError(object message) { Messages.Add("error: " + message); }
        public static void LogError(object message, Object context) { LogError(message); }
        public static void LogException(Exception exception) { Messages.Add("exception: " + exception); }
        public static void LogException(Exception exception, Object context) { LogException(exception); }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public class PropertyAttribute : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : PropertyAttribute
    {
        public readonly string tooltip;
        public TooltipAttribute(string tooltip) { this.tooltip = tooltip; }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class RangeAttribute : PropertyAttribute
    {
        public readonly float min, max;
        public RangeAttribute(float min, float max) { this.min = min; this.max = max; }
    }

    [AttributeUsage(AttributeTargets.Field, AllowMultiple = true)]
    public sealed class HeaderAttribute : PropertyAttribute
    {
        public readonly string header;
        public HeaderAttribute(string header) { this.header = header; }
    }

    [AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
    public sealed class RequireComponent : Attribute
    {
        public Type m_Type0;
        public RequireComponent(Type requiredComponent) { m_Type0 = requiredComponent; }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute
    {
        public AddComponentMenu(string menuName) { }
    }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute { }
}
