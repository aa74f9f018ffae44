-- havlak: Havlak's loop recognition on a synthetic control flow graph, with
-- union-find nodes, identity sets and dictionaries from the som helper module.
local harness = require "harness"
local som = require "som"
local Vector, Set, Dictionary = som.Vector, som.Set, som.Dictionary
-- The size is the number of extra loop-finding passes over the large graph.
local n = harness.size(6)

local function class()
  local c = {}
  c.__index = c
  return c
end

local BasicBlock = class()
function BasicBlock.new(name)
  return setmetatable({name = name, in_edges = Vector.new(2), out_edges = Vector.new(2)}, BasicBlock)
end
function BasicBlock:num_nodes() return #self end

local ControlFlowGraph = class()
function ControlFlowGraph.new()
  return setmetatable({blocks = {}, count = 0, start_node = nil, edges = Vector.new()}, ControlFlowGraph)
end
function ControlFlowGraph:create_node(name)
  local node = self.blocks[name + 1]
  if not node then
    node = BasicBlock.new(name)
    self.blocks[name + 1] = node
    self.count = self.count + 1
  end
  if self.count == 1 then self.start_node = node end
  return node
end
function ControlFlowGraph:add_edge(from_name, to_name)
  local from, to = self:create_node(from_name), self:create_node(to_name)
  from.out_edges:append(to)
  to.in_edges:append(from)
  self.edges:append({from, to})
end
function ControlFlowGraph:num_nodes() return self.count end

local SimpleLoop = class()
function SimpleLoop.new(bb, is_reducible)
  local self = setmetatable({counter = 0, depth_level = 0, parent = nil, is_root = false,
                             nesting_level = 0, header = bb, is_reducible = is_reducible,
                             basic_blocks = Set.new(), children = Set.new()}, SimpleLoop)
  if bb then self.basic_blocks:add(bb) end
  return self
end
function SimpleLoop:add_node(bb) self.basic_blocks:add(bb) end
function SimpleLoop:add_child_loop(loop) self.children:add(loop) end
function SimpleLoop:set_parent(parent)
  self.parent = parent
  parent:add_child_loop(self)
end
function SimpleLoop:set_nesting_level(level)
  self.nesting_level = level
  if level == 0 then self.is_root = true end
end

local LoopStructureGraph = class()
function LoopStructureGraph.new()
  local self = setmetatable({loops = Vector.new(), loop_counter = 0}, LoopStructureGraph)
  self.root = SimpleLoop.new(nil, true)
  self.root:set_nesting_level(0)
  self.root.counter = self.loop_counter
  self.loop_counter = self.loop_counter + 1
  self.loops:append(self.root)
  return self
end
function LoopStructureGraph:create_new_loop(bb, is_reducible)
  local loop = SimpleLoop.new(bb, is_reducible)
  loop.counter = self.loop_counter
  self.loop_counter = self.loop_counter + 1
  self.loops:append(loop)
  return loop
end
function LoopStructureGraph:calculate_nesting_level()
  self.loops:each(function(l)
    if not l.is_root and l.parent == nil then l:set_parent(self.root) end
  end)
  self:calculate_nesting_level_rec(self.root, 0)
end
function LoopStructureGraph:calculate_nesting_level_rec(loop, depth)
  loop.depth_level = depth
  loop.children:each(function(child)
    self:calculate_nesting_level_rec(child, depth + 1)
    loop:set_nesting_level(math.max(loop.nesting_level, 1 + child.nesting_level))
  end)
end
function LoopStructureGraph:num_loops() return self.loops:size() end

local UnionFindNode = class()
function UnionFindNode.new() return setmetatable({dfs_number = 0}, UnionFindNode) end
function UnionFindNode:init_node(bb, dfs_number)
  self.parent, self.bb, self.dfs_number, self.loop = self, bb, dfs_number, nil
end
function UnionFindNode:find_set()
  local path = Vector.new()
  local node = self
  while node ~= node.parent do
    if node.parent ~= node.parent.parent then path:append(node) end
    node = node.parent
  end
  path:each(function(p) p.parent = node end)
  return node
end
function UnionFindNode:union(other) self.parent = other end

local kNonHeader, kReducible, kSelf, kIrreducible, kDead = 1, 2, 3, 4, 5
local kUnvisited = 2147483647
-- Bail out on pathological graphs, as the original does.
local kMaxNonBackPreds = 32 * 1024

local HavlakLoopFinder = class()
function HavlakLoopFinder.new(cfg, lsg)
  return setmetatable({cfg = cfg, lsg = lsg, non_back_preds = Vector.new(), back_preds = Vector.new(),
                       number = Dictionary.new(function(bb) return bb.name end),
                       header = {}, type = {}, last = {}, nodes = {}}, HavlakLoopFinder)
end
function HavlakLoopFinder:is_ancestor(w, v) return w <= v and v <= self.last[w] end
function HavlakLoopFinder:do_dfs(current_node, current)
  self.nodes[current]:init_node(current_node, current)
  self.number:at_put(current_node, current)
  local last_id = current
  local outs = current_node.out_edges
  for i = 1, outs:size() do
    local target = outs:at(i)
    if self.number:at(target) == kUnvisited then last_id = self:do_dfs(target, last_id + 1) end
  end
  self.last[current] = last_id
  return last_id
end
function HavlakLoopFinder:init_all_nodes()
  for _, bb in pairs(self.cfg.blocks) do self.number:at_put(bb, kUnvisited) end
  self:do_dfs(self.cfg.start_node, 0)
end
function HavlakLoopFinder:identify_edges(size)
  for w = 0, size - 1 do
    self.header[w] = 0
    self.type[w] = kNonHeader
    local node_w = self.nodes[w].bb
    if node_w == nil then
      self.type[w] = kDead
    else
      node_w.in_edges:each(function(node_v)
        local v = self.number:at(node_v)
        if v ~= kUnvisited then
          if self:is_ancestor(w, v) then self.back_preds:at(w + 1):append(v)
          else self.non_back_preds:at(w + 1):add(v) end
        end
      end)
    end
  end
end
function HavlakLoopFinder:step_d(w, pool)
  self.back_preds:at(w + 1):each(function(v)
    if v ~= w then pool:append(self.nodes[v]:find_set()) else self.type[w] = kSelf end
  end)
end
function HavlakLoopFinder:step_e(w, pool, work_list, x)
  self.non_back_preds:at(x.dfs_number + 1):each(function(it)
    local ydash = self.nodes[it]:find_set()
    if not self:is_ancestor(w, ydash.dfs_number) then
      self.type[w] = kIrreducible
      self.non_back_preds:at(w + 1):add(ydash.dfs_number)
    elseif ydash.dfs_number ~= w and not pool:contains(ydash) then
      work_list:append(ydash)
      pool:append(ydash)
    end
  end)
end
function HavlakLoopFinder:set_loop_attributes(w, pool, loop)
  self.nodes[w].loop = loop
  pool:each(function(node)
    self.header[node.dfs_number] = w
    node:union(self.nodes[w])
    if node.loop then node.loop:set_parent(loop) else loop:add_node(node.bb) end
  end)
end
function HavlakLoopFinder:find_loops()
  if not self.cfg.start_node then return end
  local size = self.cfg:num_nodes()
  for i = 0, size - 1 do
    self.non_back_preds:append(Set.new())
    self.back_preds:append(Vector.new())
    self.nodes[i] = UnionFindNode.new()
  end
  self:init_all_nodes()
  self:identify_edges(size)
  self.header[0] = 0
  for w = size - 1, 0, -1 do
    local pool = Vector.new()
    local node_w = self.nodes[w].bb
    if node_w then
      self:step_d(w, pool)
      local work_list = Vector.new()
      pool:each(function(p) work_list:append(p) end)
      if pool:size() ~= 0 then self.type[w] = kReducible end
      while not work_list:is_empty() do
        local x = work_list:remove_first()
        if self.non_back_preds:at(x.dfs_number + 1):size() > kMaxNonBackPreds then return end
        self:step_e(w, pool, work_list, x)
      end
      if pool:size() > 0 or self.type[w] == kSelf then
        local loop = self.lsg:create_new_loop(node_w, self.type[w] ~= kIrreducible)
        self:set_loop_attributes(w, pool, loop)
      end
    end
  end
end

local LoopTesterApp = class()
function LoopTesterApp.new()
  local self = setmetatable({cfg = ControlFlowGraph.new(), lsg = LoopStructureGraph.new()}, LoopTesterApp)
  self.cfg:create_node(0)
  return self
end
function LoopTesterApp:build_diamond(start)
  local bb0 = start
  self.cfg:add_edge(bb0, bb0 + 1)
  self.cfg:add_edge(bb0, bb0 + 2)
  self.cfg:add_edge(bb0 + 1, bb0 + 3)
  self.cfg:add_edge(bb0 + 2, bb0 + 3)
  return bb0 + 3
end
function LoopTesterApp:build_connect(from, to) self.cfg:add_edge(from, to) end
function LoopTesterApp:build_straight(start, count)
  for i = 0, count - 1 do self:build_connect(start + i, start + i + 1) end
  return start + count
end
function LoopTesterApp:build_base_loop(from)
  local header = self:build_straight(from, 1)
  local diamond1 = self:build_diamond(header)
  local d11 = self:build_straight(diamond1, 1)
  local diamond2 = self:build_diamond(d11)
  local footer = self:build_straight(diamond2, 1)
  self:build_connect(diamond2, d11)
  self:build_connect(diamond1, header)
  self:build_connect(footer, from)
  return self:build_straight(footer, 1)
end
function LoopTesterApp:find_loops(lsg) HavlakLoopFinder.new(self.cfg, lsg):find_loops() end
function LoopTesterApp:construct_simple_cfg()
  self.cfg:create_node(0)
  self:build_base_loop(0)
  self.cfg:create_node(1)
  self:build_connect(0, 2)
end
function LoopTesterApp:construct_cfg(par_loops, ppar_loops, pppar_loops)
  local k = 2
  for _ = 1, par_loops do
    self.cfg:create_node(k + 1)
    self:build_connect(2, k + 1)
    k = k + 1
    for _ = 1, ppar_loops do
      local top = k
      k = self:build_straight(k, 1)
      for _ = 1, pppar_loops do k = self:build_base_loop(k) end
      local bottom = self:build_straight(k, 1)
      self:build_connect(k, top)
      k = bottom
    end
    self:build_connect(k, 1)
  end
end
function LoopTesterApp:main(dummy_loops, find_loop_iterations, par_loops, ppar_loops, pppar_loops)
  self:construct_simple_cfg()
  for _ = 1, dummy_loops do self:find_loops(self.lsg) end
  self:construct_cfg(par_loops, ppar_loops, pppar_loops)
  self:find_loops(self.lsg)
  for _ = 1, find_loop_iterations do self:find_loops(LoopStructureGraph.new()) end
  self.lsg:calculate_nesting_level()
  return self.lsg:num_loops(), self.cfg:num_nodes(), self.lsg.root.nesting_level
end

harness.run("havlak", 1, function()
  local loops, nodes, depth = LoopTesterApp.new():main(100, n, 10, 10, 5)
  return loops .. " loops, " .. nodes .. " nodes, root nesting " .. depth
end, function(r) return r:match("^%d+") == tostring(1602 + 3 * 100) end)
