-- only a comment
--[[ and a
long one ]]
