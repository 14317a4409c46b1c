-- Argo CD health of a kubetrade.io Model: Healthy once its evaluation passes the promotion gates.
-- Phases: Pending, Evaluating, Ready, Rejected, Failed, Suspended (deploy/argocd/README.md).
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
if phase == "Ready" then
  hs.status = "Healthy"
  hs.message = messageOf(condition("Ready"), "The model passed its promotion gates")
elseif phase == "Rejected" and obj.status.readyVersion ~= nil then
  -- A retrain the gates refused is the loop working: the Ready version stays live.
  hs.status = "Healthy"
  hs.message = "Version " .. tostring(obj.status.latestVersion) .. " rejected by its promotion gates ("
    .. messageOf(condition("Ready"), "see status.gates") .. "); version "
    .. tostring(obj.status.readyVersion) .. " stays Ready"
elseif phase == "Rejected" then
  hs.status = "Degraded"
  hs.message = "Rejected by its promotion gates: " .. messageOf(condition("Ready"), "see status.gates")
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = messageOf(condition("Failed"), "The evaluation failed")
elseif phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = messageOf(condition("Suspended"), "spec.suspend is true")
else
  hs.status = "Progressing"
  hs.message = messageOf(nil, "Phase " .. tostring(phase))
end
return hs
