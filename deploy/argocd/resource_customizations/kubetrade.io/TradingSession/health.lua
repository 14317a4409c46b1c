-- Argo CD health of a kubetrade.io TradingSession: Healthy while its trader trades within limits.
-- Phases: Pending, Running, Halted, Suspending, Suspended (deploy/argocd/README.md).
local hs = {}

local function condition(conditionType)
  if obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

-- The most specific message at hand: the condition's, the status', or a default.
local function messageOf(c, default)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if obj.status.message ~= nil and obj.status.message ~= "" then
    return obj.status.message
  end
  return default
end

-- Nothing to judge until the operator has seen this generation of the spec.
if obj.status == nil or obj.status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the kubetrade operator to reconcile"
  return hs
end
if obj.metadata.generation ~= nil and obj.status.observedGeneration < obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the kubetrade operator to observe generation " .. obj.metadata.generation
  return hs
end

local phase = obj.status.phase
local ready = condition("Ready")
local breached = condition("RiskBreached")
local reconciled = condition("Reconciled")
local suspended = condition("Suspended")
local version = condition("ModelVersion")
if phase == "Running" then
  if breached ~= nil and breached.status == "True" then
    hs.status = "Degraded"
    hs.message = "Risk limits breached (" .. breached.reason .. "): only orders that reduce risk go out"
  elseif reconciled ~= nil and reconciled.status == "False" then
    hs.status = "Degraded"
    hs.message = messageOf(reconciled, "Positions differ from the broker's")
  elseif version ~= nil and (version.reason == "VersionNotFound" or version.reason == "VersionNotReady"
      or version.reason == "TraderRefused") then
    -- A pin that cannot be honoured (no such version, not Ready, or the trader
    -- cannot trade it): the trader keeps the version it had.
    hs.status = "Degraded"
    hs.message = messageOf(version, "spec.modelRef.version cannot be traded")
  elseif version ~= nil and version.reason == "Swapping" then
    hs.status = "Progressing"
    hs.message = messageOf(version, "Waiting for the trader to swap versions")
  else
    hs.status = "Healthy"
    hs.message = messageOf(ready, "The trader is trading")
  end
elseif phase == "Halted" then
  hs.status = "Degraded"
  hs.message = messageOf(ready, "The risk manager halted trading")
elseif phase == "Suspended" then
  if suspended ~= nil and suspended.reason == "FlattenTimedOut" then
    -- Stopped, but positions may still be open: someone must look.
    hs.status = "Degraded"
  else
    hs.status = "Suspended"
  end
  hs.message = messageOf(suspended, "spec.suspend is true")
elseif phase == "Suspending" then
  hs.status = "Progressing"
  hs.message = messageOf(suspended, "The trader is closing every position")
elseif ready ~= nil and ready.reason == "InvalidSpec" then
  hs.status = "Degraded"
  hs.message = messageOf(ready, "The spec is invalid")
else
  hs.status = "Progressing"
  hs.message = messageOf(ready, "Phase " .. tostring(phase))
end
return hs
