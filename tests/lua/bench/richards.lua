-- richards: Martin Richards' operating-system task scheduler simulation, in the
-- object style of the Are-We-Fast-Yet suite (tasks with data records and closures).
local harness = require "harness"
local bit = require "bit"
local n = harness.size(25)

local kIdler, kWorker, kHandlerA, kHandlerB, kDeviceA, kDeviceB = 1, 2, 3, 4, 5, 6
local kKindDevice, kKindWork = 0, 1
local kDataSize = 4
local NO_WORK, NO_TASK = nil, nil

local Packet = {}
Packet.__index = Packet

function Packet.new(link, identity, kind)
  return setmetatable({link = link, identity = identity, kind = kind, datum = 1,
                       data = {0, 0, 0, 0}}, Packet)
end

-- Appends this packet to the end of the queue starting at head; returns the new head.
function Packet:add_to(head)
  self.link = NO_WORK
  if head == NO_WORK then return self end
  local mouse = head
  while mouse.link ~= NO_WORK do mouse = mouse.link end
  mouse.link = self
  return head
end

local Tcb = {}
Tcb.__index = Tcb

function Tcb.new(link, identity, priority, input, fn, data)
  return setmetatable({link = link, identity = identity, priority = priority, input = input,
                       fn = fn, data = data, packet_pending = true, task_waiting = false,
                       task_holding = false}, Tcb)
end

function Tcb:running() self.packet_pending, self.task_waiting, self.task_holding = false, false, false end
function Tcb:waiting() self.packet_pending, self.task_waiting, self.task_holding = false, true, false end
function Tcb:waiting_with_packet() self.packet_pending, self.task_waiting, self.task_holding = true, true, false end

function Tcb:is_holding_or_waiting()
  return self.task_holding or (not self.packet_pending and self.task_waiting)
end

function Tcb:is_waiting_with_packet()
  return self.packet_pending and self.task_waiting and not self.task_holding
end

function Tcb:add_input_and_check_priority(packet, old_task)
  if self.input == NO_WORK then
    self.input = packet
    self.packet_pending = true
    if self.priority > old_task.priority then return self end
  else
    self.input = packet:add_to(self.input)
  end
  return old_task
end

function Tcb:run_task()
  local message
  if self:is_waiting_with_packet() then
    message = self.input
    self.input = message.link
    if self.input == NO_WORK then self:running()
    else self.packet_pending, self.task_waiting, self.task_holding = true, false, false end
  else
    message = NO_WORK
  end
  return self.fn(message, self.data)
end

local Scheduler = {}
Scheduler.__index = Scheduler

function Scheduler.new()
  return setmetatable({task_list = NO_TASK, current_task = NO_TASK, current_id = 0,
                       tasks = {}, queue_count = 0, hold_count = 0}, Scheduler)
end

function Scheduler:create_task(identity, priority, work, fn, data)
  local t = Tcb.new(self.task_list, identity, priority, work, fn, data)
  self.task_list = t
  self.tasks[identity] = t
  return t
end

function Scheduler:hold_self()
  self.hold_count = self.hold_count + 1
  self.current_task.task_holding = true
  return self.current_task.link
end

function Scheduler:wait_self()
  self.current_task.task_waiting = true
  return self.current_task
end

function Scheduler:release(identity)
  local t = self.tasks[identity]
  if t == NO_TASK then return NO_TASK end
  t.task_holding = false
  if t.priority > self.current_task.priority then return t end
  return self.current_task
end

function Scheduler:queue_packet(packet)
  local t = self.tasks[packet.identity]
  if t == NO_TASK then return NO_TASK end
  self.queue_count = self.queue_count + 1
  packet.link = NO_WORK
  packet.identity = self.current_id
  return t:add_input_and_check_priority(packet, self.current_task)
end

function Scheduler:create_idler(identity, priority, work, count)
  local s = self
  local data = {control = 1, count = count}
  local t = self:create_task(identity, priority, work, function(_, d)
    d.count = d.count - 1
    if d.count == 0 then return s:hold_self() end
    if d.control % 2 == 0 then
      d.control = d.control / 2
      return s:release(kDeviceA)
    end
    d.control = bit.bxor(math.floor(d.control / 2), 0xD008)
    return s:release(kDeviceB)
  end, data)
  t:running()
end

function Scheduler:create_worker(identity, priority, work)
  local s = self
  local t = self:create_task(identity, priority, work, function(packet, d)
    if packet == NO_WORK then return s:wait_self() end
    d.destination = (d.destination == kHandlerA) and kHandlerB or kHandlerA
    packet.identity = d.destination
    packet.datum = 1
    for i = 1, kDataSize do
      d.count = d.count + 1
      if d.count > 26 then d.count = 1 end
      packet.data[i] = d.count
    end
    return s:queue_packet(packet)
  end, {destination = kHandlerA, count = 0})
  t:waiting_with_packet()
end

function Scheduler:create_handler(identity, priority, work)
  local s = self
  local t = self:create_task(identity, priority, work, function(packet, d)
    if packet ~= NO_WORK then
      if packet.kind == kKindWork then d.work_in = packet:add_to(d.work_in)
      else d.device_in = packet:add_to(d.device_in) end
    end
    if d.work_in ~= NO_WORK then
      local work_packet = d.work_in
      local count = work_packet.datum
      if count > kDataSize then
        d.work_in = work_packet.link
        return s:queue_packet(work_packet)
      end
      if d.device_in ~= NO_WORK then
        local dev_packet = d.device_in
        d.device_in = dev_packet.link
        dev_packet.datum = work_packet.data[count]
        work_packet.datum = count + 1
        return s:queue_packet(dev_packet)
      end
    end
    return s:wait_self()
  end, {work_in = NO_WORK, device_in = NO_WORK})
  t:waiting_with_packet()
end

function Scheduler:create_device(identity, priority, work)
  local s = self
  local t = self:create_task(identity, priority, work, function(packet, d)
    if packet == NO_WORK then
      local pending = d.pending
      if pending == NO_WORK then return s:wait_self() end
      d.pending = NO_WORK
      return s:queue_packet(pending)
    end
    d.pending = packet
    return s:hold_self()
  end, {pending = NO_WORK})
  t:waiting()
end

function Scheduler:schedule()
  self.current_task = self.task_list
  while self.current_task ~= NO_TASK do
    local t = self.current_task
    if t:is_holding_or_waiting() then
      self.current_task = t.link
    else
      self.current_id = t.identity
      self.current_task = t:run_task()
    end
  end
end

local function run_richards()
  local s = Scheduler.new()
  s:create_idler(kIdler, 0, NO_WORK, 10000)
  local wq = Packet.new(NO_WORK, kWorker, kKindWork)
  wq = Packet.new(wq, kWorker, kKindWork)
  s:create_worker(kWorker, 1000, wq)
  wq = Packet.new(NO_WORK, kDeviceA, kKindDevice)
  wq = Packet.new(wq, kDeviceA, kKindDevice)
  wq = Packet.new(wq, kDeviceA, kKindDevice)
  s:create_handler(kHandlerA, 2000, wq)
  wq = Packet.new(NO_WORK, kDeviceB, kKindDevice)
  wq = Packet.new(wq, kDeviceB, kKindDevice)
  wq = Packet.new(wq, kDeviceB, kKindDevice)
  s:create_handler(kHandlerB, 3000, wq)
  s:create_device(kDeviceA, 4000, NO_WORK)
  s:create_device(kDeviceB, 5000, NO_WORK)
  s:schedule()
  return s.queue_count .. "/" .. s.hold_count
end

harness.run("richards", n, run_richards, function(r) return r == "23246/9297" end)
