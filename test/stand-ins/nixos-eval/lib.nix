# The stand-in's library: a minimal module system in the shape of nixpkgs' lib/modules.nix, written for the tests.
let
  inherit (builtins) attrNames concatLists concatMap elem filter foldl' head isAttrs isFunction isList isPath isString length listToAttrs mapAttrs sort tail;

  isType = type: value: isAttrs value && (value._type or null) == type;
  unique = foldl' (kept: item: if elem item kept then kept else kept ++ [ item ]) [ ];
  showLoc = loc: builtins.concatStringsSep "." loc;
  last = list: builtins.elemAt list (length list - 1);

  # Properties, as nixpkgs writes them.
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOrder = priority: content: { _type = "order"; inherit priority content; };
  mkOption = attrs: attrs // { _type = "option"; };

  # Pushes properties into the attributes of a set without forcing any condition (a condition may read `config`).
  pushDown = value:
    if isType "merge" value then concatMap pushDown value.contents
    else if isType "if" value then map (mapAttrs (_: mkIf value.condition)) (pushDown value.content)
    else if isType "override" value then map (mapAttrs (_: mkOverride value.priority)) (pushDown value.content)
    else if isType "order" value then map (mapAttrs (_: mkOrder value.priority)) (pushDown value.content)
    else [ value ];

  # Resolves the properties around one definition of an option: a list of plain values with priority and order.
  discharge = value:
    if isType "merge" value then concatMap discharge value.contents
    else if isType "if" value then (if value.condition then discharge value.content else [ ])
    else if isType "override" value then map (item: item // { priority = value.priority; }) (discharge value.content)
    else if isType "order" value then map (item: item // { order = value.priority; }) (discharge value.content)
    else [ { inherit value; priority = 100; order = 1000; } ];

  mergeDefinitions = loc: type: defs:
    let
      plain = concatMap (def: map (item: item // { inherit (def) file; }) (discharge def.value)) defs;
      best = foldl' (low: item: if item.priority < low then item.priority else low) 9999 plain;
      kept = sort (a: b: a.order < b.order) (filter (item: item.priority == best) plain);
    in
    if kept == [ ] then { isDefined = false; } else { isDefined = true; value = type.merge loc kept; };

  mergeEqual = loc: defs:
    let first = (head defs).value;
    in if builtins.all (def: def.value == first) defs then first
    else throw "The option `${showLoc loc}' has conflicting definition values: ${builtins.concatStringsSep ", " (map (def: "in `${def.file}'") defs)}";

  mkType = name: merge: { _type = "type"; inherit name merge; };

  types = rec {
    str = mkType "str" mergeEqual;
    nonEmptyStr = str;
    bool = mkType "bool" mergeEqual;
    int = mkType "int" mergeEqual;
    path = mkType "path" mergeEqual;
    package = mkType "package" mergeEqual;
    enum = _: mkType "enum" mergeEqual;
    lines = mkType "lines" (_: defs: builtins.concatStringsSep "\n" (map (def: def.value) defs));
    listOf = _: mkType "listOf" (_: defs: concatLists (map (def: def.value) defs));
    nullOr = element: mkType "nullOr" (loc: defs:
      let set = filter (def: def.value != null) defs;
      in if set == [ ] then null else element.merge loc set);
    either = _: _: anything;
    attrsOf = element: mkType "attrsOf" (loc: defs:
      let
        pushed = concatMap (def: map (value: { inherit (def) file; inherit value; }) (pushDown def.value)) defs;
        names = unique (concatMap (def: attrNames def.value) pushed);
        merged = map (name: {
          inherit name;
          result = mergeDefinitions (loc ++ [ name ]) element (concatMap (def: if def.value ? ${name} then [ { inherit (def) file; value = def.value.${name}; } ] else [ ]) pushed);
        }) names;
      in
      listToAttrs (map (item: { inherit (item) name; value = item.result.value; }) (filter (item: item.result.isDefined) merged)));
    anything = mkType "anything" (loc: defs:
      if builtins.all (def: isAttrs def.value && !(def.value ? outPath)) defs then (attrsOf anything).merge loc defs
      else if builtins.all (def: isList def.value) defs then concatLists (map (def: def.value) defs)
      else mergeEqual loc defs);
    submodule = module: mkType "submodule" (loc: defs:
      (evalModules {
        prefix = loc;
        specialArgs = { name = last loc; };
        modules = [ module ] ++ map (def: { _file = def.file; config = def.value; }) defs;
      }).config);
  };

  # Module collection: a module is a path, a function or a set; `imports` are followed depth first.
  collect = args: key: module:
    let
      file = if isPath module || isString module then toString module else key;
      imported = if isPath module || isString module then import module else module;
      called = if isFunction imported then imported (builtins.intersectAttrs (builtins.functionArgs imported) args) else imported;
      structured = called ? config || called ? options;
      this = {
        inherit file;
        options = called.options or { };
        config = if structured then called.config or { } else removeAttrs called [ "imports" "_file" "key" "disabledModules" "meta" ];
      };
      imports = called.imports or [ ];
    in
    [ this ] ++ concatLists (builtins.genList (index: collect args "${file}:import ${toString index}" (builtins.elemAt imports index)) (length imports));

  mergeOptionTrees = a: b:
    if isType "option" a || isType "option" b then a
    else a // mapAttrs (name: value: if a ? ${name} then mergeOptionTrees a.${name} value else value) b;

  optionValue = loc: option: defs:
    let
      type = option.type or types.anything;
      result = mergeDefinitions loc type (defs ++ (if option ? default then [ { file = "default"; value = mkOverride 1500 option.default; } ] else [ ]));
    in
    if result.isDefined then result.value else throw "The option `${showLoc loc}' is used but not defined.";

  evalNode = loc: options: defs:
    if isType "option" options then optionValue loc options defs
    else
      let
        pushed = concatMap (def: map (value: { inherit (def) file; inherit value; }) (pushDown def.value)) defs;
        undeclared = filter (name: !(options ? ${name})) (unique (concatMap (def: attrNames def.value) pushed));
        definedBy = name: concatMap (def: if def.value ? ${name} then [ def.file ] else [ ]) pushed;
      in
      if undeclared != [ ] then
        throw "The option `${showLoc (loc ++ [ (head undeclared) ])}' does not exist. Definition values: in `${head (definedBy (head undeclared))}'"
      else
        mapAttrs (name: option: evalNode (loc ++ [ name ]) option (concatMap (def: if def.value ? ${name} then [ { inherit (def) file; value = def.value.${name}; } ] else [ ]) pushed)) options;

  evalModules = { modules, specialArgs ? { }, prefix ? [ ] }:
    let
      args = { inherit lib config options; } // specialArgs;
      collected = concatLists (builtins.genList (index: collect args "<module ${toString index}>" (builtins.elemAt modules index)) (length modules));
      options = foldl' mergeOptionTrees { } (map (module: module.options) collected);
      config = evalNode prefix options (map (module: { inherit (module) file; value = module.config; }) collected);
    in
    { inherit config options; };

  # Stand-ins for packages: store-path-shaped strings; nothing is built.
  pkgs = mapAttrs (name: _: { type = "derivation"; inherit name; outPath = "/nix/store/00000000000000000000000000000000-${name}"; }) {
    zfs = null; btrfs-progs = null; coreutils = null; util-linux = null; systemd = null;
  };

  lib = {
    inherit mkIf mkMerge mkOverride mkOrder mkOption types evalModules;
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;
    mkBefore = mkOrder 500;
    mkAfter = mkOrder 1500;
    mkEnableOption = name: mkOption { type = types.bool; default = false; description = "Whether to enable ${name}."; };
    optionals = condition: list: if condition then list else [ ];
    optionalAttrs = condition: attrs: if condition then attrs else { };
    nameValuePair = name: value: { inherit name value; };
    mapAttrs' = f: attrs: listToAttrs (map (name: f name attrs.${name}) (attrNames attrs));
    genAttrs = names: f: listToAttrs (map (name: { inherit name; value = f name; }) names);
    foldl' = foldl';
    zipAttrsWith = f: sets: listToAttrs (map (name: { inherit name; value = f name (concatMap (set: if set ? ${name} then [ set.${name} ] else [ ]) sets); }) (unique (concatMap attrNames sets)));
    versionAtLeast = a: b: builtins.compareVersions a b >= 0;
    nixosSystem = { modules, specialArgs ? { }, system ? null, ... }:
      let
        evaluated = evalModules {
          modules = [ ./nixos/options.nix ] ++ modules;
          specialArgs = { inherit pkgs; modulesPath = ./nixos; } // specialArgs;
        };
      in
      evaluated // { type = "configuration"; _type = "configuration"; };
  };
in
lib
