using System.Reflection;

namespace ImageGen.Tests.Unit;

/// <summary>
/// Which types call a method, read from the compiled code of the services: every method body (async state machines and
/// lambdas included, named by the type they were written in) is searched for a <c>call</c> or <c>callvirt</c> whose
/// operand resolves to the method. For tests that hold a rule to one place in the code.
/// </summary>
internal static class CallSites
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The services' assemblies: where production code lives.</summary>
    public static Assembly[] Services =>
    [
        .. new[] { "ImageGen.Api", "ImageGen.Worker", "ImageGen.Web", "ImageGen.Data", "ImageGen.Core", "ImageGen.Rendering" }
            .Select(name => Assembly.Load(new AssemblyName(name))),
    ];

    /// <summary>The full names of the types (outermost, as written) whose code calls <paramref name="target"/>.</summary>
    public static SortedSet<string> CallersOf(MethodBase target, IEnumerable<Assembly> assemblies)
    {
        var callers = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in assemblies.SelectMany(LoadableTypes))
        {
            foreach (var method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
            {
                if (Calls(method, target))
                {
                    callers.Add(Outermost(type).FullName!);
                }
            }
        }

        return callers;
    }

    private static bool Calls(MethodBase method, MethodBase target)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException)
        {
            return false;
        }

        if (il is null)
        {
            return false;
        }

        for (var i = 0; i + 4 < il.Length; i++)
        {
            // call (0x28) and callvirt (0x6F) take a method token.
            if (il[i] is not (0x28 or 0x6F))
            {
                continue;
            }

            var token = BitConverter.ToInt32(il, i + 1);
            if ((token >> 24) is not (0x06 or 0x0A or 0x2B))
            {
                continue;
            }

            try
            {
                var called = method.Module.ResolveMethod(token,
                    method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                    method.IsGenericMethod ? method.GetGenericArguments() : null);
                if (called is not null && Same(called, target))
                {
                    return true;
                }
            }
            catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMethodException)
            {
                // Not a method token after all (an operand of another instruction that looks like one).
            }
        }

        return false;
    }

    private static bool Same(MethodBase called, MethodBase target) =>
        called.MetadataToken == target.MetadataToken && called.Module == target.Module;

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        return type;
    }

    private static IEnumerable<Type> LoadableTypes(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.OfType<Type>();
        }
    }
}
